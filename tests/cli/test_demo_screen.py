"""The first screen of `relance demo`: which deployment, the credentials, the /docs URL, the
`export` line the CLI and the Python client need, then a readable request log (text in a
terminal, JSON into a pipe, RELANCE_LOG_FORMAT deciding when set). Each printed command is then
run as a person would paste it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.commands import COMMAND, cli_env, free_port, ok_json, relance, report

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# How long a step may take before the test fails rather than hangs.
PATIENCE = 90


class Screen:
    """What a process wrote to its terminal or pipe, read as it comes."""

    def __init__(self, fd: int) -> None:
        self.fd, self.text = fd, ""

    def until(self, pattern: str) -> str:
        deadline = time.monotonic() + PATIENCE
        while not re.search(pattern, self.text):
            if time.monotonic() > deadline:
                pytest.fail(f"never saw {pattern!r} in:\n{self.text}")
            ready, _, _ = select.select([self.fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the terminal closed: the process ended
                    chunk = b""
                if not chunk:
                    pytest.fail(f"output ended before {pattern!r}:\n{self.text}")
                self.text += ANSI.sub("", chunk.decode(errors="replace")).replace("\r\n", "\n")
        return self.text


@contextmanager
def demo(home: Path, port: int, *, terminal: bool, env: dict[str, str]) -> Iterator[Screen]:
    """`relance demo` on PORT, its standard output (and error) a terminal or a pipe."""
    if terminal:
        reader, writer = pty.openpty()
    else:
        reader, writer = os.pipe()
    try:
        process = subprocess.Popen(  # noqa: S603
            [*COMMAND, "demo", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=writer,
            env=cli_env(home, env),
        )
        os.close(writer)
        try:
            yield Screen(reader)
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        os.close(reader)


def guide(screen: Screen) -> str:
    """The first screen, up to the line saying the server listens."""
    return screen.until(r"Relance listening on \S+")


def logged_request(screen: Screen, base: str) -> str:
    """The log line of one request made once the server answers."""
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            assert httpx.get(f"{base}/readyz").status_code == 200
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"the demo never answered:\n{screen.text}")
            time.sleep(0.2)
    text = screen.until(r"[^\n]*/readyz[^\n]*\n")
    return next(line for line in text.splitlines() if "/readyz" in line)


def test_in_a_terminal_the_first_screen_guides_and_the_log_is_text(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}"

    with demo(home, port, terminal=True, env={}) as screen:
        text = guide(screen)
        line = logged_request(screen, base)

    lines = text.splitlines()
    assert lines[0] == f"Relance deployment: {home} (RELANCE_DATA_DIR)", text
    assert f"API reference {base}/docs" in lines, text
    exports = [line for line in lines if line.startswith("export RELANCE_BASE_URL=")]
    assert len(exports) == 1, text
    assert "client_secret" in text, text
    assert not line.startswith("{"), line
    assert " INFO " in line, line
    assert "route=/readyz" in line, line


def test_into_a_pipe_the_log_is_json(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()

    with demo(home, port, terminal=False, env={}) as screen:
        text = guide(screen)
        line = logged_request(screen, f"http://127.0.0.1:{port}")

    assert text.splitlines()[0] == f"Relance deployment: {home} (RELANCE_DATA_DIR)", text
    assert json.loads(line)["route"] == "/readyz", line


@pytest.mark.parametrize(("terminal", "chosen"), [(True, "json"), (False, "text")])
def test_relance_log_format_decides_when_set(tmp_path: Path, terminal: bool, chosen: str) -> None:
    home, port = tmp_path / "home", free_port()

    with demo(home, port, terminal=terminal, env={"RELANCE_LOG_FORMAT": chosen}) as screen:
        guide(screen)
        line = logged_request(screen, f"http://127.0.0.1:{port}")

    assert line.startswith("{") == (chosen == "json"), line


def test_each_printed_command_works_pasted_one_by_one(tmp_path: Path) -> None:
    """The guide's commands, from its `export` line on, pasted into a shell in another
    terminal: the CLI lists followups, the curl lines get a token and followups."""
    home, port = tmp_path / "home", free_port()

    with demo(home, port, terminal=False, env={}) as screen:
        text = guide(screen)
        start = text.index("export RELANCE_BASE_URL=")
        pasted = text[start : text.index("Relance listening")]
        # The commands, each maybe continued over lines ending in \; not the prose between.
        steps = [
            step
            for step in re.split(r"(?<!\\)\n", pasted)
            if re.match(r"(export|relance|curl|TOKEN=)", step)
        ]
        # `listen` runs until Ctrl+C (tests/client/test_listen.py runs it): it is shown, not run.
        assert any(step.startswith("relance webhooks listen --forward-to") for step in steps)
        steps = [step for step in steps if not step.startswith("relance webhooks listen")]
        assert steps[0].startswith("export "), steps
        assert any(step.startswith("relance followups list") for step in steps), steps
        assert any(step.startswith("TOKEN=$(curl") for step in steps), steps
        outputs = paste(steps, tmp_path)

    listed = outputs[next(i for i, s in enumerate(steps) if s.startswith("relance followups"))]
    assert len(re.findall(r"^ [0-9A-Za-z]{22} ", listed, flags=re.MULTILINE)) == 5, listed
    answer = json.loads(outputs[-1])
    assert len(answer["data"]) == 5, answer
    assert {row["status"] for row in answer["data"]} == {"deal_found"}, answer


def paste(steps: list[str], tmp_path: Path) -> list[str]:
    """Run the steps in one shell, one after the other as pasted; the output of each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELANCE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    # A NUL after each step's output tells the outputs apart.
    script = "".join(f"{step}\nprintf '\\0'\n" for step in steps)
    run = subprocess.run(  # noqa: S603
        ["/bin/bash", "-e", "-c", script],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, f"{script}\n{run.stdout}\n{run.stderr}"
    return run.stdout.split("\0")[: len(steps)]


def test_demo_json_stays_one_document(tmp_path: Path) -> None:
    result = relance("demo", "--no-serve", "--json", data_dir=tmp_path / "home")

    assert ok_json(result)["companies"], report(result)
    assert result.stderr.startswith("Relance deployment: "), report(result)
