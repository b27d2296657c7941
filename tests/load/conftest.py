"""Every load test drives a server with wrk: without it they fail at once, saying how to get it."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(autouse=True)
def _wrk_installed() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: install Debian's package with `apt-get install -y wrk`")
