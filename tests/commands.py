"""Running the `relance` command as a real subprocess: one-shot commands and servers."""

from __future__ import annotations

import json
import os
import re
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
SERVER_START_TIMEOUT = 20


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
    """`relance serve` on a free port until the block ends; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603
            [*COMMAND, "serve", "--port", str(port), "--workers", str(workers)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=cli_env(data_dir, env),
        )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                if server.poll() is not None:
                    pytest.fail(f"relance serve exited {server.returncode}: {log.read_text()}")
                try:
                    httpx.get(f"{base}/external-api/v1/followups", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"relance serve did not answer in time: {log.read_text()}")
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


@contextmanager
def served(
    home: Path, env: dict[str, str], log: Path, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`relance serve` whose process the test may signal itself."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [*COMMAND, "serve", "--port", str(port), "--workers", str(workers)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=cli_env(home, env),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/readyz", timeout=1)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            yield process, base
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def demo_on(home: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The demo book, on PostgreSQL when `env` names it (migrated first, as operators do)."""
    if env and "RELANCE_DATABASE_URL" in env:
        migrated = relance("db", "upgrade", data_dir=home, env=env)
        assert migrated.returncode == 0, migrated.stderr
    companies: list[dict[str, Any]] = ok_json(
        relance("demo", "--no-serve", "--json", data_dir=home, env=env)
    )["companies"]
    return companies
