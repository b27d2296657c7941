"""Serving the API from the command line: the port checked free, the schema ready, the
workers started with the logging and metrics set up for them."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from relance.cli.common import err, fail, settings, with_deployment

if TYPE_CHECKING:
    from relance.config import Settings
    from relance.runtime import Deployment


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def prepare_schema() -> None:
    """Migrate or check the schema (see with_deployment), and make the secret key of a new
    deployment, before serving, which opens a runtime of its own in each worker."""

    async def nothing(deployment: Deployment) -> None:
        return None

    with_deployment(nothing, create=True)


def ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use; choose another with --port")
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")


def run_server(host: str, port: int, workers: int, *, deliver: bool) -> None:
    """Serve in this process (one worker) or its children, inside metrics_shared_by."""
    from relance.observability.logs import logging_config

    config = settings()
    ensure_port_free(host, port)
    if config.metrics_port is not None:
        ensure_port_free(host, config.metrics_port)
    from relance.serving import serve_workers

    if config.metrics_port is not None:
        from relance.observability.exposition import serve_metrics_port

        serve_metrics_port(host, config.metrics_port)
    err.print(f"Relance listening on {base_url(host, port)} ({workers} worker(s)); Ctrl+C stops it")
    public_url = config.public_url or base_url(host, port)
    with _delivering(public_url) if deliver else contextlib.nullcontext():
        serve_workers(
            host,
            port,
            workers,
            log_config=logging_config(log_format(config), config.log_level),
            timeout_graceful_shutdown=config.shutdown_timeout_seconds,
        )


@contextlib.contextmanager
def _delivering(public_url: str) -> Iterator[None]:
    """The webhook delivery process beside the server (`relance worker`), stopped with it; it
    stops by itself if the server dies without stopping it."""
    command = [sys.executable, "-m", "relance", "worker", "--public-url", public_url]
    worker = subprocess.Popen([*command, "--exit-with", str(os.getpid())])  # noqa: S603
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=settings().webhooks_timeout_seconds + 5)
        except subprocess.TimeoutExpired:
            worker.kill()


def log_format(config: Settings) -> Literal["json", "text"]:
    """RELANCE_LOG_FORMAT when set; else text for a person at a terminal, and JSON, one object
    a line, for whatever reads a pipe or a file (a supervisor, a log shipper)."""
    if "log_format" in config.model_fields_set:
        return config.log_format
    return "text" if sys.stdout.isatty() else "json"


@contextlib.contextmanager
def metrics_shared_by(processes: int) -> Iterator[None]:
    """With several processes (workers, the delivery process), a fresh directory where each
    counts its metrics (prometheus-client's multiprocess mode), read by whichever process
    answers a scrape. Set before any of them starts: they import prometheus-client knowing
    it."""
    if processes == 1:
        yield
        return
    from relance.observability import MULTIPROC_DIR

    # In memory where the system offers it, as prometheus-client advises: every request writes to
    # these mapped files.
    shared_memory = Path("/dev/shm")  # noqa: S108 - a private directory (0700) is made in it
    where = str(shared_memory) if os.access(shared_memory, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="relance-metrics-", dir=where) as directory:
        os.environ[MULTIPROC_DIR] = directory
        yield
