"""`relance worker`, and the delivery process `relance serve` starts: a DeliveryWorker made
from the settings, until SIGINT or SIGTERM (or the death of the process that started it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from relance.config import retry_delays
from relance.runtime import Deployment
from relance.webhooks.sender import Sender
from relance.webhooks.worker import DeliveryWorker, WorkerOptions

log = logging.getLogger("relance.webhooks")
# Where media links point when neither RELANCE_PUBLIC_URL nor the server's address is known.
FALLBACK_PUBLIC_URL = "http://127.0.0.1:8000"


def worker_options(deployment: Deployment, public_url: str) -> WorkerOptions:
    settings = deployment.settings
    return WorkerOptions(
        delays=retry_delays(settings.webhooks_retry_schedule),
        timeout=settings.webhooks_timeout_seconds,
        concurrency=settings.webhooks_concurrency,
        disable_after_seconds=settings.webhooks_disable_after_seconds,
        retention_days=settings.events_retention_days,
        public_url=public_url,
    )


async def run_worker(deployment: Deployment, public_url: str, exit_with: int | None) -> None:
    """Deliver until a signal stops it, or until process `exit_with` is gone."""
    settings = deployment.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    watch = None if exit_with is None else asyncio.create_task(_watch_parent(exit_with, stop))
    sender = Sender(
        timeout=settings.webhooks_timeout_seconds,
        allow_private=settings.webhooks_allow_private_networks,
    )
    log.info("webhook worker started (pid %d)", os.getpid())
    try:
        await DeliveryWorker(deployment, sender, worker_options(deployment, public_url)).run(stop)
    finally:
        if watch is not None:
            watch.cancel()
        await sender.aclose()
        log.info("webhook worker stopped")


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    """Stop once the server that started this process is gone (even SIGKILLed)."""
    while os.getppid() == pid:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if stop.is_set():
            return
    stop.set()
