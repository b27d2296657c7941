"""The debt's record is its one definition: the body, the view and the table name the same
fields, held to it here."""

from __future__ import annotations

from relance.debts.records import RECORD_FIELDS, STORED_FIELDS
from relance.debts.schemas import DebtBody, DebtView
from relance.models.debt import Debt

# The view's names for stored fields it shows under GetBill's names, and what it derives.
SHOWN_AS = {"company_name": "company", "created_at": "import_date", "metadata_json": "metadata"}
DERIVED = {"amount_text", "contacts"}


def test_the_view_shows_every_stored_field_but_references_and_what_it_derives() -> None:
    hidden = {"external_id", "debtor_id", "creditor_id"}
    shown = {SHOWN_AS.get(name, name) for name in STORED_FIELDS} - hidden
    assert set(DebtView.__struct_fields__) == shown | DERIVED


def test_the_view_shows_the_record_s_fields_in_the_record_s_order() -> None:
    order = [SHOWN_AS.get(name, name) for name in RECORD_FIELDS]
    shown = [name for name in DebtView.__struct_fields__ if name in order]
    assert shown == [name for name in order if name in shown]


def test_a_body_s_fields_are_the_record_s_but_those_renamed_and_getbill_s_timeline_options() -> (
    None
):
    renamed = {"company", "metadata", "creditor_id"}
    ignored = {"timeline_start_mode", "accept_expensive_destination"}
    assert set(DebtBody.model_fields) - renamed - ignored <= set(RECORD_FIELDS)


def test_the_table_stores_the_record_with_its_keys_and_moments() -> None:
    kept = {"id", "company_id", "created_at", "updated_at"}
    assert {column.name for column in Debt.__table__.columns} == {*RECORD_FIELDS, *kept}
