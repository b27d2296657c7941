"""The files the local media store writes, and the files an import may read: a stored
recording or document is its owner's alone (0600 in 0700 folders) whatever the data dir's mode
and the umask; an import's file column names only files inside the import file's folder, and
its error is the same for a file that is missing and one that lies outside."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from relance.followups.imports import NO_SUCH_FILE
from relance.runtime import Runtime
from tests.commands import report
from tests.media.helpers import (
    Client,
    attach,
    debt_of,
    import_followups,
    new_followup,
    sample_files,
)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The test process's umask, which the commands it runs inherit."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_under(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


async def test_stored_media_are_private_whatever_the_umask_and_the_data_dirs_mode(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    files = sample_files(tmp_path)
    data_dir = runtime.settings.data_dir
    data_dir.chmod(0o777)
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    book = tmp_path / "book.csv"
    debt = await debt_of(client, headers, followup)
    book.write_text(f"debt_id,type,status,pdf_file\n{debt},postmail,sent,{files['pdf'].name}\n")

    with umask(0):
        attached = await attach(runtime, followup, "--audio", str(files["wav"]))
        imported = await import_followups(runtime, book)

    assert attached.returncode == 0, report(attached)
    assert imported.returncode == 0, report(imported)
    media = data_dir / "media"
    stored = stored_under(media)
    assert [path.parent.name for path in stored] == ["documents", "recordings"]
    assert {mode_of(path) for path in stored} == {0o600}
    folders = [media, *(path.parent for path in stored)]
    assert {mode_of(folder) for folder in folders} == {0o700}


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_folder_made_open_before_is_made_private_at_the_next_store(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    files = sample_files(tmp_path)
    recordings = runtime.settings.data_dir / "media" / "recordings"
    recordings.mkdir(parents=True)
    recordings.chmod(0o755)
    recordings.parent.chmod(0o755)
    followup, _ = await new_followup(runtime, client, type="call", status="deal_found")

    attached = await attach(runtime, followup, "--audio", str(files["wav"]))

    assert attached.returncode == 0, report(attached)
    assert (mode_of(recordings.parent), mode_of(recordings)) == (0o700, 0o700)


async def test_a_file_column_names_only_files_inside_the_import_files_folder(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "book"
    (folder / "calls").mkdir(parents=True)
    inside = sample_files(folder / "calls")["wav"]
    outside = sample_files(tmp_path)["wav"]
    (folder / "escape.wav").symlink_to(outside)
    (folder / "alias.wav").symlink_to(inside)
    (folder / "loop.wav").symlink_to(folder / "loop.wav")
    followup, headers = await new_followup(runtime, client)
    debt = await debt_of(client, headers, followup)
    names = {
        "calls/sample.wav": True,  # a path relative to the folder
        "alias.wav": True,  # a link that stays inside
        str(outside): False,  # an absolute path, to a file that exists
        "../sample.wav": False,  # the same file, by ..
        "calls/../../sample.wav": False,
        "escape.wav": False,  # a link that leads out
        "missing.wav": False,
        "loop.wav": False,
        "calls": False,  # a folder
        "/etc/passwd": False,
    }
    book = folder / "book.csv"
    rows = [f"{debt},call,no_answer,{name}" for name in names]
    book.write_text("\n".join(["debt_id,type,status,audio_file", *rows]) + "\n")

    result = await import_followups(runtime, book)

    summary = json.loads(result.stdout)
    assert summary["created"] == 2, report(result)
    refused = {error["line"] - 2: error["errors"] for error in summary["errors"]}
    expected = {n: {"audio_file": [NO_SUCH_FILE]} for n, ok in enumerate(names.values()) if not ok}
    assert refused == expected
    stored = stored_under(runtime.settings.data_dir / "media")
    assert [path.read_bytes() for path in stored] == [inside.read_bytes()] * 2
