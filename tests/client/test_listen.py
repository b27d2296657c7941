"""`relance webhooks listen` as a developer runs it: a subprocess following a real `relance
serve` on the demo book, forwarding to a real receiver on 127.0.0.1, in an interpreter where the
server's packages cannot be imported (as in a client-only install). The receiver checks each
request with relance.webhooks.verify and the secret the command printed."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

from relance.client import Relance
from relance.webhooks import WebhookVerificationError, verify
from relance.webhooks.signing import GETBILL_SIGNATURE
from tests.cli.test_lazy_imports import SERVER_PACKAGES
from tests.client.conftest import Book
from tests.client.test_cli import WITHOUT_SERVER
from tests.commands import cli_env

WAIT = 60  # seconds a test waits for a line or a request before it fails, never a measure
READY = "Ready! Your webhook signing secret is "


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    return {"RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@contextmanager
def receiving(status: int = 200) -> Iterator[tuple[str, queue.Queue[Received]]]:
    """A receiver on 127.0.0.1 answering `status` to every POST; yields its URL and what it
    received."""
    got: queue.Queue[Received] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            got.put(Received(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", got
    finally:
        server.shutdown()
        server.server_close()


class Lines:
    """A process's output, line by line, read in a thread so that a test can wait for a line
    with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))

    def until(self, wanted: str) -> str:
        while True:
            try:
                line = self._lines.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"no line with {wanted!r}; printed: {self.seen}")
            self.seen.append(line)
            if wanted in line:
                return line


@contextmanager
def listening(
    book: Book, tmp_path: Path, target: str, *options: str
) -> Iterator[tuple[subprocess.Popen[str], Lines, str]]:
    """`relance webhooks listen` in an interpreter that cannot import the server's packages,
    until it printed its secret; yields the process, its output and the secret."""
    company = book.companies[0]
    env = {
        "RELANCE_BASE_URL": book.base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    script = WITHOUT_SERVER.format(blocked=SERVER_PACKAGES)
    args = ["webhooks", "listen", "--forward-to", target, "--interval", "0.5", *options]
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "listen.err").open("w"),
        text=True,
        env=cli_env(tmp_path, env),
    )
    try:
        assert process.stdout is not None
        lines = Lines(process.stdout)
        ready = lines.until(READY)
        secret = ready.removeprefix(READY).split()[0]
        yield process, lines, secret
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT)


@pytest.fixture
def api(demo_book: Book) -> Iterator[Relance]:
    company = demo_book.companies[0]
    with Relance(demo_book.base, company["client_id"], company["client_secret"]) as client:
        yield client


def next_event(got: queue.Queue[Received]) -> Received:
    try:
        return got.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail("the receiver got nothing")


def new_debt(api: Relance, name: str) -> str:
    created = api.debts.create(
        firstname=name, lastname="Listen", amount="42.00", currency="EUR", email="l@example.fr"
    )
    return created.id


def test_an_event_reaches_the_receiver_signed_and_printed(
    demo_book: Book, tmp_path: Path, api: Relance
) -> None:
    with receiving() as (target, got), listening(demo_book, tmp_path, target) as running:
        process, lines, secret = running
        assert secret.startswith("whsec_")
        debt_id = new_debt(api, "Ada")

        received = next_event(got)

        verify(received.body, received.headers, secret)  # Standard Webhooks
        getbill_only = {GETBILL_SIGNATURE: received.headers[GETBILL_SIGNATURE]}
        verify(received.body, getbill_only, secret)
        with pytest.raises(WebhookVerificationError):
            verify(received.body, received.headers, "whsec_" + "A" * 44)
        event = received.event
        assert (event["type"], event["data"]["id"]) == ("debt.created", debt_id)
        assert received.headers["webhook-id"] == event["id"]
        assert received.path == "/hooks"
        # The event exactly as GET /events/{id} shows it, minified.
        shown = api.request("GET", f"/external-api/v1/events/{event['id']}")["data"]
        assert received.body == json.dumps(shown, separators=(",", ":")).encode()
        line = lines.until(event["id"])
        assert "debt.created" in line
        assert line.endswith("→ 200")

        process.send_signal(signal.SIGINT)

        assert process.wait(timeout=WAIT) == 0
    assert lines.seen[0].startswith(READY)  # the secret comes first, and no history after it
    assert [line for line in lines.seen[1:] if "→" in line] == [line]


def test_only_the_chosen_types_are_forwarded_oldest_first(
    demo_book: Book, tmp_path: Path, api: Relance
) -> None:
    chosen = ("--events", "debt.created,followup.created")
    with receiving() as (target, got), listening(demo_book, tmp_path, target, *chosen):
        debt_id = new_debt(api, "Grace")
        followup = api.followups.create(debt_id=debt_id, type="sms", status="delivered")
        later_id = new_debt(api, "Hopper")

        received = [next_event(got).event for _ in range(3)]

    # The delivered followup's followup.completed, recorded between the two debts, was not
    # forwarded: events go oldest first, so it would have come before the second debt.
    completed = api.events.list(type="followup.completed", limit=5).data
    assert followup.id in {event.data["id"] for event in completed}
    assert [(event["type"], event["data"]["id"]) for event in received] == [
        ("debt.created", debt_id),
        ("followup.created", followup.id),
        ("debt.created", later_id),
    ]


def test_the_receivers_status_or_failure_is_printed(
    demo_book: Book, tmp_path: Path, api: Relance
) -> None:
    with receiving(status=503) as (target, got), listening(demo_book, tmp_path, target) as running:
        _, lines, _ = running
        new_debt(api, "Linus")
        event = next_event(got).event
        assert lines.until(event["id"]).endswith("→ 503")
    # Nothing listens on port 9 (discard): the request fails, and the listener goes on.
    with listening(demo_book, tmp_path, "http://127.0.0.1:9/hooks") as (process, lines, _):
        new_debt(api, "Barbara")
        failed = lines.until("debt.created")
        assert "→ error: ConnectError" in failed
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=WAIT) == 0


def test_a_bad_option_is_refused_before_anything_is_sent(demo_book: Book, tmp_path: Path) -> None:
    company = demo_book.companies[0]
    env = {
        "RELANCE_BASE_URL": demo_book.base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    script = WITHOUT_SERVER.format(blocked=SERVER_PACKAGES)
    for options, named in (
        (["--forward-to", "http://127.0.0.1:9/", "--events", "debt.paid"], "debt.paid"),
        (["--forward-to", "localhost:3000"], "--forward-to"),
    ):
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script, "webhooks", "listen", *options],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path, env),
            timeout=WAIT,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert named in done.stderr
        assert READY not in done.stdout
