"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 17:14:52.577901
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    op.create_table(
        "debts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("civility", sa.String(length=10), nullable=True),
        sa.Column("firstname", sa.String(length=100), nullable=False),
        sa.Column("lastname", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("object", sa.Text(), nullable=True),
        sa.Column("internal_id", sa.String(length=100), nullable=True),
        sa.Column("invoice_reference", sa.String(length=100), nullable=True),
        sa.Column("debtor_reference", sa.String(length=100), nullable=True),
        sa.Column("invoice_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("street_address", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("followups_count", sa.Integer(), nullable=False),
        sa.Column("nb_reminders", sa.Integer(), nullable=False),
        sa.Column("nb_answered", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_debts_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debts")),
        sa.UniqueConstraint("id", "company_id", name=op.f("uq_debts_id_company_id")),
    )
    op.create_index(op.f("ix_debts_company_id"), "debts", ["company_id"], unique=False)
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_oauth_clients_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_index(
        op.f("ix_oauth_clients_company_id"), "oauth_clients", ["company_id"], unique=False
    )
    op.create_table(
        "followups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("debt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column(
            "call_date",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "scheduled_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=True,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("call_id", sa.String(length=255), nullable=True),
        sa.Column("audio_url", sa.Text(), nullable=True),
        sa.Column("pdf_url", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("disconnection_reason", sa.String(length=255), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=True),
        sa.Column("phone_number_used", sa.String(length=20), nullable=True),
        sa.Column("is_retry", sa.Boolean(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column("triggered_payment", sa.Boolean(), nullable=False),
        sa.Column("email_opened", sa.Boolean(), nullable=False),
        sa.Column("email_clicked", sa.Boolean(), nullable=False),
        sa.Column("email_open_count", sa.Integer(), nullable=False),
        sa.Column("email_click_count", sa.Integer(), nullable=False),
        sa.Column(
            "email_first_opened_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "activity_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name=op.f("ck_followups_direction")
        ),
        sa.CheckConstraint(
            "status IN ('on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'deal_found', 'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled')",
            name=op.f("ck_followups_status"),
        ),
        sa.CheckConstraint(
            "type IN ('call', 'email', 'sms', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail')",
            name=op.f("ck_followups_type"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_followups_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["debt_id", "company_id"],
            ["debts.id", "debts.company_id"],
            name=op.f("fk_followups_debt_id_company_id_debts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
    )
    op.create_index(
        op.f("ix_followups_company_id_activity_at_id"),
        "followups",
        ["company_id", "activity_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_followups_company_id_status_activity_at_id"),
        "followups",
        ["company_id", "status", "activity_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_followups_company_id_type_activity_at_id"),
        "followups",
        ["company_id", "type", "activity_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_followups_debt_id_activity_at_id"),
        "followups",
        ["debt_id", "activity_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_followups_debt_id_activity_at_id"), table_name="followups")
    op.drop_index(op.f("ix_followups_company_id_type_activity_at_id"), table_name="followups")
    op.drop_index(op.f("ix_followups_company_id_status_activity_at_id"), table_name="followups")
    op.drop_index(op.f("ix_followups_company_id_activity_at_id"), table_name="followups")
    op.drop_table("followups")
    op.drop_index(op.f("ix_oauth_clients_company_id"), table_name="oauth_clients")
    op.drop_table("oauth_clients")
    op.drop_index(op.f("ix_debts_company_id"), table_name="debts")
    op.drop_table("debts")
    op.drop_table("companies")
