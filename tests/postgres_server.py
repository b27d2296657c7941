"""A private PostgreSQL cluster on a free port, for fault tests that stop and restart the
database: never the machine's shared server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.commands import free_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        config = shutil.which("pg_config")
        if config is not None:
            bindir = subprocess.run(  # noqa: S603
                [config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            candidate = Path(bindir) / name
            found = str(candidate) if candidate.exists() else None
    if found is None:
        pytest.fail(f"{name} is not installed; the fault tests need Debian's postgresql package")
    return found


class PrivatePostgres:
    """A cluster in a temporary directory. PostgreSQL refuses to run as root, so under root
    (CI) it runs as the `postgres` system user."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="relance-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    def init(self) -> None:
        self._run(
            _binary("initdb"),
            "-D",
            str(self.home / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _binary("pg_ctl"),
            "-D",
            str(self.home / "data"),
            "-o",
            options,
            "-l",
            str(self.home / "log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as when an operator restarts the server."""
        self._run(_binary("pg_ctl"), "-D", str(self.home / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(  # noqa: S603
            [
                *self._as_owner,
                _binary("pg_ctl"),
                "-D",
                str(self.home / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.home, ignore_errors=True)

    def _run(self, *command: str) -> None:
        done = subprocess.run(  # noqa: S603
            [*self._as_owner, *command], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
