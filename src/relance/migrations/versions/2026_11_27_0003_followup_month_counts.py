"""followup month counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:27:49.148496
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followup_month_counts",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_followup_month_counts_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id",
            "status",
            "type",
            "month",
            name=op.f("pk_followup_month_counts"),
            postgresql_include=["n"],
        ),
        sqlite_with_rowid=False,
    )
    backfill()


def backfill() -> None:
    """Count the followups already there per UTC month, under their own and the ANY keys."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    month = (
        "substr(activity_at, 1, 7) || '-01'"
        if sqlite
        else "date_trunc('month', activity_at AT TIME ZONE 'UTC')::date"
    )
    for status, kind in (("status", "type"), ("status", "'*'"), ("'*'", "type"), ("'*'", "'*'")):
        keys = ", ".join(k for k in ("company_id", status, kind) if not k.startswith("'"))
        op.execute(
            f"INSERT INTO followup_month_counts (company_id, status, type, month, n)"
            f" SELECT company_id, {status}, {kind}, {month}, count(*) FROM followups"
            f" GROUP BY {keys}, {month}"
        )


def downgrade() -> None:
    op.drop_table("followup_month_counts")
