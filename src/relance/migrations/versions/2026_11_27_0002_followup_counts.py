"""followup counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 17:26:29.681160
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followup_day_counts",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_followup_day_counts_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id",
            "status",
            "type",
            "day",
            name=op.f("pk_followup_day_counts"),
            postgresql_include=["n"],
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "followup_totals",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_followup_totals_company_id_companies")
        ),
        sa.PrimaryKeyConstraint(
            "company_id",
            "status",
            "type",
            name=op.f("pk_followup_totals"),
            postgresql_include=["n"],
        ),
        sqlite_with_rowid=False,
    )
    backfill()


def backfill() -> None:
    """Count the followups already there, each under its own and the ANY ('*') keys."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    day = "substr(activity_at, 1, 10)" if sqlite else "(activity_at AT TIME ZONE 'UTC')::date"
    for status, kind in (("status", "type"), ("status", "'*'"), ("'*'", "type"), ("'*'", "'*'")):
        keys = ", ".join(k for k in ("company_id", status, kind) if not k.startswith("'"))
        op.execute(
            f"INSERT INTO followup_totals (company_id, status, type, n)"
            f" SELECT company_id, {status}, {kind}, count(*) FROM followups GROUP BY {keys}"
        )
        op.execute(
            f"INSERT INTO followup_day_counts (company_id, status, type, day, n)"
            f" SELECT company_id, {status}, {kind}, {day}, count(*) FROM followups"
            f" GROUP BY {keys}, {day}"
        )


def downgrade() -> None:
    op.drop_table("followup_totals")
    op.drop_table("followup_day_counts")
