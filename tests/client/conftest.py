"""A server holding the demo book, shared by the SDK and CLI tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands import ok_json, relance, serving


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """A server holding the demo book, and the credentials of its biggest company."""
    home = tmp_path_factory.mktemp("sdk")
    companies = ok_json(relance("demo", "--no-serve", "--json", data_dir=home))["companies"]
    with serving(home, home) as base:
        yield base, companies[0]
