"""debt fields, external ids, idempotency keys

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 19:49:41.165168
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("client_id", "key", name=op.f("uq_idempotency_keys_client_id_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birthdate", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("street_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("timeline_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("iban", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("company_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("debtor_company", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("payment_link", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("metadata_json", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "last_timeline_restart",
                sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "payment_plan_active",
                sa.Boolean(),
                server_default=sa.text("(false)"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("plan_start_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_debts_company_id_internal_id"),
            ["company_id", "internal_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_debts_company_id_external_id",
            ["company_id", "external_id"],
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_followups_company_id_external_id",
            ["company_id", "external_id"],
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_followups_company_id_external_id",
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )
        batch_op.drop_column("external_id")

    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debts_company_id_internal_id"))
        batch_op.drop_index(
            "ix_debts_company_id_external_id",
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )
        batch_op.drop_column("external_id")
        batch_op.drop_column("plan_start_date")
        batch_op.drop_column("payment_plan_active")
        batch_op.drop_column("last_timeline_restart")
        batch_op.drop_column("metadata_json")
        batch_op.drop_column("payment_link")
        batch_op.drop_column("debtor_company")
        batch_op.drop_column("company_name")
        batch_op.drop_column("iban")
        batch_op.drop_column("summary")
        batch_op.drop_column("timeline_id")
        batch_op.drop_column("street_number")
        batch_op.drop_column("address")
        batch_op.drop_column("birthdate")

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
