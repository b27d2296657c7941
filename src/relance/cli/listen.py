"""`relance webhooks listen --forward-to URL`: the company's events, as they happen, POSTed to
a receiver on a developer's machine, signed as Relance's webhooks are, as `stripe listen` does.

It follows GET /events with the client's credentials (RELANCE_BASE_URL, RELANCE_CLIENT_ID,
RELANCE_CLIENT_SECRET) and makes outgoing requests only, so it works from behind a NAT, with no
endpoint to register. Client-side: the SDK and the standard library's HMAC, nothing of the
server."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from rich.markup import escape

from relance.cli.followups import EXIT_USAGE, BaseUrl, api_calls
from relance.cli.output import err, fail, out

if TYPE_CHECKING:
    import httpx

    from relance.client import Relance

EVENTS_PATH = "/external-api/v1/events"
# One request a poll when nothing happened: 720 an hour, within the default read budget of
# 1,000 an hour.
DEFAULT_INTERVAL = 5.0
PAGE_LIMIT = 100  # the most a page holds: a burst of events is read in the fewest requests
# The IDs remembered, so that an event is forwarded once. Polling stops at the first page
# holding one of them, so only the newest few are ever needed; this many spares the memory of
# a listener left running for days.
SEEN_CAPACITY = 10_000
FORWARD_TIMEOUT = 10.0  # seconds, as the server's own deliveries
SECRET_BYTES = 32

Event = dict[str, Any]


def listen(
    forward_to: Annotated[
        str,
        typer.Option("--forward-to", help="The receiver's URL, e.g. http://localhost:3000/hook."),
    ],
    events: Annotated[
        str | None,
        typer.Option(help="Only these event types, comma-separated (default: every type)."),
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between two looks at the API's events.")
    ] = DEFAULT_INTERVAL,
    base_url: BaseUrl = None,
) -> None:
    """Forward the company's events, from now on, to a local receiver, signed with a secret
    made for this session and printed first (set it as your receiver's secret). Ctrl+C stops."""
    import httpx

    types = _event_types(events)
    target = _target(forward_to)
    secret = new_secret()
    _stop_on_signals()
    with api_calls(base_url) as client, httpx.Client(timeout=FORWARD_TIMEOUT) as http:
        try:
            follower = Follower(client, types)
            follower.prime()
            out.print(
                f"Ready! Your webhook signing secret is {secret} (^C to quit)",
                highlight=False,
                soft_wrap=True,
            )
            _follow(follower, http, target, secret, interval)
        except KeyboardInterrupt:
            # Ctrl+C is how a listener is meant to stop: not an error.
            err.print("stopped", highlight=False)


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM stop the listener cleanly. A process started in the background by a
    script inherits SIGINT ignored, and a supervisor stops with SIGTERM: either way the
    listener is meant to end when asked."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (made here, as
    the server's relance.webhooks.secrets needs the cryptography package)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _event_types(events: str | None) -> list[str]:
    from relance.client import EventType

    wanted = [name.strip() for name in (events or "").split(",") if name.strip()]
    known = get_args(EventType)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        fail(f"--events: unknown type {', '.join(unknown)}; one of {', '.join(known)}", EXIT_USAGE)
    return wanted


def _target(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        fail(f"--forward-to must be an http:// or https:// URL, not {url!r}", EXIT_USAGE)
    return url


class Follower:
    """What is new in the company's events since the last look. The API lists them newest
    first by their order of recording, so a look reads pages until one holds an event already
    seen; the events of that page not seen yet (recorded before it, committed after) are new
    too. Nothing older than the newest event when the listener started is ever sent."""

    def __init__(self, client: Relance, types: Sequence[str]) -> None:
        self._client = client
        self._types = list(types)
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest are dropped first
        self._floor: str | None = None

    def prime(self) -> None:
        """Remember the newest events as seen: they are history, not news."""
        page = self._page(None)
        for event in page["data"]:
            self.mark(event)
        if page["data"]:
            self._floor = str(page["data"][0]["timestamp"])

    def poll(self) -> list[Event]:
        """The events not seen yet, oldest first."""
        fresh: list[Event] = []
        after: str | None = None
        while True:
            page = self._page(after)
            fresh.extend(e for e in page["data"] if e["id"] not in self._seen)
            reached_seen = any(e["id"] in self._seen for e in page["data"])
            after = page["pagination"].get("next_starting_after")
            if reached_seen or not page["pagination"]["has_more"] or after is None:
                break
        fresh.reverse()
        return fresh

    def mark(self, event: Event) -> None:
        self._seen[event["id"]] = None
        if len(self._seen) > SEEN_CAPACITY:
            del self._seen[next(iter(self._seen))]

    def _page(self, after: str | None) -> Any:
        query: dict[str, str | list[str]] = {"limit": str(PAGE_LIMIT)}
        if self._types:
            query["type"] = self._types
        if self._floor is not None:
            query["created_gte"] = self._floor
        if after is not None:
            query["starting_after"] = after
        return self._client.request("GET", EVENTS_PATH, query=query)


def _follow(
    follower: Follower, http: httpx.Client, target: str, secret: str, interval: float
) -> None:
    """Look, forward what is new, wait; until interrupted. A rate limit is waited out and an
    unreachable or failing API tried again, so that a listener outlives a server restart."""
    from relance.client import APIConnectionError, InternalServerError, RateLimitError

    while True:
        time.sleep(interval)
        try:
            fresh = follower.poll()
        except RateLimitError as exc:
            wait = exc.retry_after or interval
            err.print(f"rate limited: waiting {wait:.0f} s", highlight=False)
            time.sleep(wait)
            continue
        except (APIConnectionError, InternalServerError) as exc:
            err.print(
                f"[yellow]warning:[/] {escape(str(exc))}; trying again",
                highlight=False,
                soft_wrap=True,
            )
            continue
        for event in fresh:
            outcome = forward(http, target, secret, event)
            follower.mark(event)
            _print_forwarded(event, outcome)


def forward(http: httpx.Client, target: str, secret: str, event: Event) -> str:
    """POST the event, minified and signed, to the receiver; its status code, or the error."""
    import httpx

    from relance.webhooks.signing import signed_headers

    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signed_headers([secret], str(event["id"]), int(time.time()), body)
    try:
        answer = http.post(target, content=body, headers=headers)
    except httpx.TimeoutException:
        return "error: timeout"
    except httpx.HTTPError as exc:
        return f"error: {type(exc).__name__}: {exc}"
    return str(answer.status_code)


def _print_forwarded(event: Event, outcome: str) -> None:
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    colour = "green" if outcome.startswith("2") else "red"
    out.print(
        f"{when}  {escape(str(event['type']))}  {escape(str(event['id']))}"
        f"  → [{colour}]{escape(outcome)}[/]",
        highlight=False,
        soft_wrap=True,
    )
