"""Running the `relance` command as a real subprocess: one-shot commands and servers."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

RELANCE = Path(sys.executable).with_name("relance")
COMMAND = (
    [str(RELANCE)]
    if RELANCE.exists()
    else [sys.executable, "-c", "from relance.cli.main import main; main()"]
)
PUBLIC_ID = re.compile(r"[0-9A-Za-z]{22}")
TIMEOUT = 120  # seconds for one command; a hang fails the test instead of blocking the run
SERVER_START_TIMEOUT = 30


def cli_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any Relance setting, on the given data dir."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELANCE_")}
    env["RELANCE_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def relance(
    *args: str, data_dir: Path, timeout: float = TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `relance ARGS` on DATA_DIR, RELANCE_DATABASE_URL unset unless ENV sets it."""
    return subprocess.run(  # noqa: S603
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(data_dir, env),
        check=False,
    )


def flat(text: str) -> str:
    """Messages for people may be wrapped to the terminal width: compare them unwrapped."""
    return " ".join(text.split())


def report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, report(result)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not exactly one JSON document ({exc}): {result.stdout!r}")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    data_dir: Path, tmp_path: Path, env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[str]:
    """`relance serve` on a free port until the block ends; yields its base URL. Its output
    goes to a `serve-*.log` in `tmp_path`."""
    log = tmp_path / f"serve-{secrets.token_hex(4)}.log"
    with served(data_dir, env or {}, log, workers) as (_, base):
        yield base


@contextmanager
def served(
    home: Path, env: dict[str, str], log: Path, workers: int = 1, *options: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`relance serve` on a free port until the block ends, then stopped as a supervisor stops
    it (SIGTERM: its log is flushed); yields the process, which a test may signal itself, and
    its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [*COMMAND, "serve", "--port", str(port), "--workers", str(workers), *options],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=cli_env(home, env),
        )
        try:
            _until_up(process, base, log)
            yield process, base
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"relance serve exited {process.returncode}: {log.read_text()}")
        try:
            httpx.get(f"{base}/readyz", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"relance serve did not answer in time: {log.read_text()}")
            time.sleep(0.2)


def token_of(base: str, company: dict[str, Any]) -> str:
    """An access token for a client whose credentials `relance demo --json` printed."""
    form = {
        "grant_type": "client_credentials",
        "client_id": company["client_id"],
        "client_secret": company["client_secret"],
    }
    answer = httpx.post(f"{base}/token", data=form)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def demo_on(home: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The demo book, on PostgreSQL when `env` names it (migrated first, as operators do)."""
    if env and "RELANCE_DATABASE_URL" in env:
        migrated = relance("db", "upgrade", data_dir=home, env=env)
        assert migrated.returncode == 0, migrated.stderr
    companies: list[dict[str, Any]] = ok_json(
        relance("demo", "--no-serve", "--json", data_dir=home, env=env)
    )["companies"]
    return companies
