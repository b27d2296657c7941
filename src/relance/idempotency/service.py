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

from litestar import Request
from pydantic import BaseModel

from relance.db import Database
from relance.errors import Conflict, ValidationFailed
from relance.idempotency import repository
from relance.kit.responses import JsonAnswer, encode_json
from relance.kit.time import utc_now
from relance.units import UnitOfWork, unit_of_work

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")

# The write itself: given its unit of work, the status and document to answer.
Write = Callable[[UnitOfWork], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


async def answered_once(
    request: Request[Any, Any, Any], db: Database, client_id: str, body: BaseModel, write: Write
) -> JsonAnswer:
    """Run `write` in one unit of work, at most once per key the client sends."""
    # The validated body, as sent, stands for the request: key order and spacing do not matter.
    request_print = _fingerprint(
        request.method, request.scope["path"], body.model_dump_json(exclude_unset=True)
    )
    key = request.headers.get(HEADER.lower())
    answer = await _answer_once(db, client_id, key, request_print, write)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JsonAnswer.encoded(answer.body, answer.status, headers)


def _fingerprint(method: str, path: str, canonical_body: str) -> str:
    return hashlib.sha256(f"{method} {path}\n{canonical_body}".encode()).hexdigest()


async def _answer_once(
    db: Database, client_id: str, key: str | None, request: str, write: Write
) -> Answer:
    if key is None:
        async with unit_of_work(db) as unit:
            status, document = await write(unit)
        return Answer(status, encode_json(document))
    if _KEY.fullmatch(key) is None:
        raise ValidationFailed({HEADER: ["must be 1 to 255 printable ASCII characters"]})
    now = utc_now()
    async with unit_of_work(db) as unit:
        claimed = await repository.claim(unit.conn, client_id, key, request, now, now - KEPT_FOR)
        if claimed is not None:
            status, document = await write(unit)
            body = encode_json(document)
            await repository.record(unit.conn, claimed, status, body)
            return Answer(status, body)
    return await _replay(db, client_id, key, request)


async def _replay(db: Database, client_id: str, key: str, request: str) -> Answer:
    stored = await repository.find(db, client_id, key)
    if stored is None:
        # The holder of the key rolled back or expired in between: the client may retry.
        raise Conflict(f"A request with this {HEADER} was just in progress; retry it")
    if stored.fingerprint != request:
        raise Conflict(f"This {HEADER} was already used with a different request; use a new key")
    return Answer(stored.status, stored.body, replayed=True)
