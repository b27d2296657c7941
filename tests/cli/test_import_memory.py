"""One line with no end does not take the import's memory with it: a 200 MB line is a bad
row named by its line, refused at MAX_ROW_BYTES, and the command's peak memory stays far below
the line's size (an unbounded read once took 1.1 GB for 300 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from relance.kit.rows import TOO_LONG
from tests.commands import COMMAND, cli_env, ok_json, relance

LINE_BYTES = 200 * 1024 * 1024
# The command's own footprint (Python, pydantic, the database driver) is about 100 MB; a line
# held whole, even once, would take it past the line's 200 MB.
PEAK_BOUND_BYTES = 160 * 1024 * 1024
# Runs the command as its only child and prints the child's peak resident memory (Linux: KiB).
_MEASURED = (
    "import resource, subprocess, sys;"
    " done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
    " sys.stderr.write(done.stderr); sys.stdout.write(done.stdout);"
    " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
    " sys.exit(done.returncode)"
)


def endless_line(path: Path, start: bytes) -> None:
    chunk = b"y" * (1024 * 1024)
    with path.open("wb") as sink:
        sink.write(start)
        for _ in range(LINE_BYTES // len(chunk)):
            sink.write(chunk)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB is Linux's")
@pytest.mark.parametrize(
    ("suffix", "start", "line"),
    [
        ("csv", b"debt_internal_id,type,summary\nINV-1,sms,", 2),
        ("jsonl", b'{"debt_internal_id": "INV-1", "type": "sms", "summary": "', 1),
    ],
)
def test_an_endless_line_is_refused_in_bounded_memory(
    tmp_path: Path, suffix: str, start: bytes, line: int
) -> None:
    home = tmp_path / "home"
    assert relance("db", "upgrade", data_dir=home).returncode == 0
    company = ok_json(relance("companies", "create", "Big", "--json", data_dir=home))["id"]
    file = tmp_path / f"endless.{suffix}"
    endless_line(file, start)

    command = [*COMMAND, "import", "followups", str(file), "--company", company, "--json"]
    measured = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURED, *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(home),
        check=False,
    )

    assert measured.returncode == 1, measured.stderr
    summary = json.loads(measured.stdout)
    assert summary["errors"] == [{"line": line, "errors": {"row": [TOO_LONG]}}]
    peak_bytes = int(measured.stderr.strip().splitlines()[-1]) * 1024
    print(f"peak {peak_bytes / 2**20:.0f} MiB")
    assert peak_bytes < PEAK_BOUND_BYTES, f"peak {peak_bytes / 2**20:.0f} MiB"
