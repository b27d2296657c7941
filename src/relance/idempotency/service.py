"""Answering a POST once per `Idempotency-Key` (as Stripe does): the first request's write and
the key are committed together, and a retry with the same key and the same request within 24
hours gets the first answer again, marked `Idempotent-Replayed: true`. The same key with another
request is a 409. Only answers of writes that happened are kept: a request refused with a 4xx
leaves the key free for a corrected retry."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from relance.auth.tokens import Principal
from relance.db import Connection
from relance.errors import Conflict, ValidationFailed
from relance.idempotency import repository
from relance.kit.responses import encode_json
from relance.kit.time import utc_now
from relance.runtime import Runtime

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")

# The write itself: given the transaction, the status and document to answer.
Write = Callable[[Connection], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


def fingerprint(method: str, path: str, canonical_body: str) -> str:
    return hashlib.sha256(f"{method} {path}\n{canonical_body}".encode()).hexdigest()


async def answer_once(
    runtime: Runtime, principal: Principal, key: str | None, request: str, write: Write
) -> Answer:
    """Run `write` in a transaction, at most once per key; `request` is the fingerprint."""
    if key is None:
        async with runtime.db.transaction() as conn:
            status, document = await write(conn)
        return Answer(status, encode_json(document))
    if _KEY.fullmatch(key) is None:
        raise ValidationFailed({HEADER: ["must be 1 to 255 printable ASCII characters"]})
    now = utc_now()
    async with runtime.db.transaction() as conn:
        claimed = await repository.claim(
            conn, principal.client_id, key, request, now, now - KEPT_FOR
        )
        if claimed is not None:
            status, document = await write(conn)
            body = encode_json(document)
            await repository.record(conn, claimed, status, body)
            return Answer(status, body)
    return await _replay(runtime, principal, key, request)


async def _replay(runtime: Runtime, principal: Principal, key: str, request: str) -> Answer:
    stored = await repository.find(runtime.db, principal.client_id, key)
    if stored is None:
        # The holder of the key rolled back or expired in between: the client may retry.
        raise Conflict(f"A request with this {HEADER} was just in progress; retry it")
    if stored.fingerprint != request:
        raise Conflict(f"This {HEADER} was already used with a different request; use a new key")
    return Answer(stored.status, stored.body, replayed=True)
