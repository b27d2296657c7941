"""cheaper followup writes on PostgreSQL: no redundant company keys, day counts updated in place

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 22:45:00.000000

A followup's company is already held to its debt's by the key (debt_id, company_id) ->
debts (id, company_id), and a debt's to an existing company; the count tables only ever count
followups. Checking each of those rows against `companies` again was a third of the time of a
bulk import's insert (one trigger query per row).

The day counts' primary key no longer carries `n` (INCLUDE), and their pages keep room: a count
moved by a write is then updated in place (a HOT update) instead of adding an index entry each
time. The reads that sum days touch at most two months of rows, whose heap fetches cost little.

On SQLite, which has no INCLUDE, only the keys go (each table is rebuilt without its key).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("followups", "followup_totals", "followup_day_counts", "followup_month_counts")


DAY_KEY = ("company_id", "status", "type", "day")


def upgrade() -> None:
    for table in TABLES:
        # On SQLite, a batch rebuilds the table without the constraint.
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_company_id_companies", type_="foreignkey")
    if op.get_bind().dialect.name != "postgresql":
        return
    _day_key("")
    op.execute("ALTER TABLE followup_day_counts SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE followup_day_counts RESET (fillfactor)")
        _day_key(" INCLUDE (n)")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f"fk_{table}_company_id_companies", "companies", ["company_id"], ["id"]
            )


def _day_key(include: str) -> None:
    op.drop_constraint("pk_followup_day_counts", "followup_day_counts", type_="primary")
    op.execute(
        "ALTER TABLE followup_day_counts ADD CONSTRAINT pk_followup_day_counts"
        f" PRIMARY KEY ({', '.join(DAY_KEY)}){include}"
    )
