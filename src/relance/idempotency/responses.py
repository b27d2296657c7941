"""The HTTP side of idempotent POSTs: reading the key, fingerprinting the request, answering."""

from __future__ import annotations

from typing import Any

from litestar import Request
from pydantic import BaseModel

from relance.auth.tokens import Principal
from relance.idempotency.service import HEADER, Write, answer_once, fingerprint
from relance.kit.responses import JsonAnswer
from relance.runtime import Runtime


async def answered_once(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    principal: Principal,
    body: BaseModel,
    write: Write,
) -> JsonAnswer:
    # The validated body, as sent, stands for the request: key order and spacing do not matter.
    request_print = fingerprint(
        request.method, request.scope["path"], body.model_dump_json(exclude_unset=True)
    )
    key = request.headers.get(HEADER.lower())
    answer = await answer_once(runtime, principal, key, request_print, write)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JsonAnswer.encoded(answer.body, answer.status, headers)
