"""A server holding the demo book, shared by the SDK and CLI tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.commands import ok_json, relance, serving


@dataclass(frozen=True)
class Book:
    """A running `relance serve` on the demo book: its address, its data dir (for the
    commands a test runs beside it) and the companies `relance demo --json` printed."""

    base: str
    home: Path
    companies: list[dict[str, Any]]

    def new_client(self, scopes: str, *limits: str) -> dict[str, Any]:
        """Credentials of a new OAuth client of the biggest company."""
        company = self.companies[0]["id"]
        args = ("--company", company, "--scopes", scopes, *limits, "--json")
        created: dict[str, Any] = ok_json(relance("clients", "create", *args, data_dir=self.home))
        return created


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    """The server's settings; a module overrides this fixture to change them."""
    return {}


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory, demo_env: dict[str, str]) -> Iterator[Book]:
    home = tmp_path_factory.mktemp("sdk")
    companies = ok_json(relance("demo", "--no-serve", "--json", data_dir=home))["companies"]
    with serving(home, home, env=demo_env) as base:
        yield Book(base, home, companies)


@pytest.fixture(scope="module")
def demo(demo_book: Book) -> tuple[str, dict[str, Any]]:
    """A server holding the demo book, and the credentials of its biggest company."""
    return demo_book.base, demo_book.companies[0]
