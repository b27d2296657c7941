"""The company's record is its one definition: the view, the fields the operator sets and the
table name the same fields, held to it here."""

from __future__ import annotations

from relance.companies.records import COMPANY_FIELDS
from relance.companies.repository import CHANGEABLE
from relance.companies.schemas import CompanyChanges, CompanyFields, CompanyView
from relance.models.company import Company


def test_the_view_is_the_record_in_its_order() -> None:
    assert CompanyView.__struct_fields__ == COMPANY_FIELDS


def test_what_the_operator_sets_is_the_record_but_its_key_and_moment() -> None:
    settable = tuple(name for name in COMPANY_FIELDS if name not in ("id", "created_at"))
    assert tuple(CompanyFields.model_fields) == settable
    assert tuple(CompanyChanges.model_fields) == settable
    assert settable == CHANGEABLE


def test_the_table_stores_the_record_with_its_last_change() -> None:
    assert {column.name for column in Company.__table__.columns} == {*COMPANY_FIELDS, "updated_at"}
