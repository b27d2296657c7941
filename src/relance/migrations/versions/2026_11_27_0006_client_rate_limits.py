"""client rate limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("oauth_clients", sa.Column("read_limit", sa.Integer(), nullable=True))
    op.add_column("oauth_clients", sa.Column("write_limit", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("oauth_clients", "write_limit")
    op.drop_column("oauth_clients", "read_limit")
