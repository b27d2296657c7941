"""The targets of `relance followups sync` on their own: a page is applied only on top of the
cursor it was read from (two syncs into one SQLite file or PostgreSQL database cannot both
apply it), a JSON Lines file is held by one sync at a time, and a JSON Lines mirror cut
anywhere is read back up to its last complete cursor line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.cli.sync import jsonl
from relance.cli.sync.targets import Batch, Origin, Target, TargetError, open_target
from tests.postgres import scratch_database

ORIGIN = Origin("http://127.0.0.1:1", "rlc_test")
ROW = {
    "id": "f1", "debt_id": "d1", "status": "sent", "type": "email", "call_date": None,
    "scheduled_at": None, "summary": "one", "notes": None, "call_id": None, "audio_url": None,
    "pdf_url": None, "duration_ms": None, "disconnection_reason": None, "direction": None,
    "phone_number_used": None, "is_retry": False, "processed_at": "2026-12-03T10:00:00+00:00",
    "triggered_payment": False, "email_opened": True, "email_open_count": 2,
    "email_first_opened_at": None, "email_clicked": False, "email_click_count": 0,
    "media_urls_expire_at": None,
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "mirror.sqlite")
        return
    with scratch_database("relance_target") as url:
        yield url


def opened(spec: str) -> Target:
    target = open_target(spec)
    target.open(ORIGIN)
    return target


def test_a_page_applies_only_on_the_cursor_it_was_read_from(spec: str) -> None:
    first, second = opened(spec), opened(spec)
    try:
        first.snapshot(ORIGIN, iter([Batch(upserts=[ROW])]), lambda: "c1", None)
        with pytest.raises(TargetError, match="another sync"):
            second.snapshot(ORIGIN, iter([Batch(upserts=[ROW])]), lambda: "c1", None)
        changed = Batch(upserts=[{**ROW, "summary": "two"}])
        first.apply(changed, "c1", "c2")
        with pytest.raises(TargetError, match="another sync"):
            second.apply(changed, "c1", "c2")
        second.apply(Batch(upserts=[{**ROW, "summary": "three"}]), "c2", "c3")
    finally:
        first.close()
        second.close()
    again = open_target(spec)
    try:
        stored = again.open(ORIGIN)
    finally:
        again.close()
    assert stored is not None
    assert stored.cursor == "c3"


def test_a_json_lines_mirror_is_held_by_one_sync(tmp_path: Path) -> None:
    path = str(tmp_path / "mirror.jsonl")
    holder = opened(path)
    try:
        with pytest.raises(TargetError, match="another sync"):
            opened(path)
    finally:
        holder.close()
    opened(path).close()


LINES = st.lists(
    st.tuples(st.sampled_from(["upsert", "cursor", "media"]), st.text(max_size=30)), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(lines=LINES, cut=st.integers(min_value=0, max_value=4000), block=st.integers(1, 64))
def test_the_last_complete_cursor_line_is_found_wherever_the_file_was_cut(
    lines: list[tuple[str, str]], cut: int, block: int
) -> None:
    whole = jsonl.line({"action": "mirror", "format": 1})
    whole += b"".join(jsonl.line({"action": action, "text": text}) for action, text in lines)
    kept = whole[: min(cut, len(whole))]
    expected: tuple[int, bytes | None] = (0, None)
    offset = 0
    for line in kept.splitlines(keepends=True):
        offset += len(line)
        if line.endswith(b"\n") and line.startswith(jsonl.CURSOR):
            expected = (offset, line[:-1])
    assert jsonl.last_cursor(io.BytesIO(kept), block) == expected
