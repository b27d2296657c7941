"""Rows read into typed objects by the positions of their columns' names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.kit.readers import row_reader


@dataclass(frozen=True)
class Point:
    x: int
    y: int
    label: str | None


def test_each_field_reads_the_column_of_its_name_wherever_it_stands() -> None:
    read = row_reader(Point, ("x", "y", "label"), ("label", "y", "x", "extra"))
    assert read([("a", 2, 1, "ignored"), ("b", 4, 3, None)]) == [
        Point(1, 2, "a"),
        Point(3, 4, "b"),
    ]


def test_a_field_with_no_column_is_none() -> None:
    assert row_reader(Point, ("x", "y", "label"), ("x", "y"))([(1, 2)]) == [Point(1, 2, None)]


def test_values_pass_through_the_functions_fixed_and_those_given_per_call() -> None:
    read = row_reader(
        Point, ("x", "y", "label"), ("x", "y", "label"), through={"x": abs}, given=("y", "label")
    )
    rows = [(-1, 2, "a")]
    assert read(rows, lambda y: y * 10, str.upper) == [Point(1, 20, "A")]
    assert read(rows, lambda y: -y, str.lower) == [Point(1, -2, "a")]


def test_fields_by_keyword_for_a_target_that_takes_no_positions() -> None:
    @dataclass(kw_only=True)
    class Named:
        y: int
        x: int

    read = row_reader(Named, ("x", "y"), ("y", "x"), by_keyword=True)
    assert read([(2, 1)]) == [Named(x=1, y=2)]


def test_a_function_for_a_field_the_target_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no field named z"):
        row_reader(Point, ("x", "y", "label"), ("x", "y", "label"), through={"z": abs})


@dataclass(frozen=True)
class Triple:
    a: int
    b: int
    c: int


@given(
    st.permutations(["a", "b", "c", "d", "e"]),
    st.lists(st.integers(), min_size=5, max_size=5),
)
def test_any_column_order_reads_the_same_object(columns: list[str], values: list[int]) -> None:
    by_name = dict(zip(columns, values, strict=True))
    expected = Triple(by_name["a"], by_name["b"], by_name["c"])
    assert row_reader(Triple, ("a", "b", "c"), columns)([tuple(values)]) == [expected]
