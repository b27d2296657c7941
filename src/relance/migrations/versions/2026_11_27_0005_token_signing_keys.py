"""token signing keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 19:01:01.425381
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_signing_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=25), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_token_signing_keys")),
    )


def downgrade() -> None:
    op.drop_table("token_signing_keys")
