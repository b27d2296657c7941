"""The log formats, on values a caller could have chosen: every record stays on its line (text:
a traceback's lines indented under it), and no value can pass for another field."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from relance.observability.logs import JsonFormatter, TextFormatter

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR ")
FAKE = "2001-01-01T00:00:00.000Z INFO    relance.audit: token issued client_id=admin"
HOSTILE = f"a\n{FAKE}\r{FAKE}\x85{FAKE}\u2028{FAKE}\x1b[2K\x00\\n"


def record(message: str, fields: dict[str, object], *, failed: bool = False) -> logging.LogRecord:
    exc_info = None
    if failed:
        try:
            raise ValueError(f"bad value {message}")
        except ValueError:
            exc_info = sys.exc_info()
    made = logging.LogRecord("relance.test", logging.ERROR, __file__, 1, "%s", (message,), exc_info)
    made.fields = fields
    return made


@pytest.mark.parametrize("failed", [False, True])
def test_a_text_record_owns_every_line_it_starts(failed: bool) -> None:
    text = TextFormatter().format(record(HOSTILE, {"route": HOSTILE}, failed=failed))
    first, *rest = text.splitlines()
    assert TIMESTAMP.match(first)
    assert all(line.startswith("    ") for line in rest), rest
    assert bool(rest) == failed
    # Escaped, not dropped: the value is still there to read.
    assert "\\n2001-01-01" in first
    assert "\\x1b[2K" in first
    assert "\\\\n" in first


def test_a_text_value_cannot_pass_for_another_field() -> None:
    text = TextFormatter().format(record("request", {"route": "/x status=200", "name": 'a"b'}))
    assert 'route="/x status=200"' in text
    assert 'name="a\\"b"' in text
    assert " status=200" not in text.replace('"/x status=200"', "")


def test_a_json_record_is_one_line_by_any_reading() -> None:
    line = JsonFormatter().format(record(HOSTILE, {"route": HOSTILE}, failed=True))
    assert line.splitlines() == [line]
    parsed = json.loads(line)
    assert parsed["message"] == HOSTILE
    assert parsed["route"] == HOSTILE
