"""Writes the rate-limit headers into every response of a request that was charged, and puts
the 429 in place of a read's answer when its budget turned out spent while it ran."""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from relance.context import RequestState, state_of
from relance.handler import error_answer
from relance.ratelimit.service import settle


def rate_limit_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def send_with_headers(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start":
                state = state_of(scope)
                error = await settle(state)
                if error is not None:
                    # The error's answer comes back through here, its decision now settled,
                    # and takes the rate-limit headers on its way out.
                    await error_answer(error)(scope, receive, send_with_headers)
                    replaced = True
                    return
                message = _with_rate_headers(message, state)
            elif replaced:
                return  # the body of the answer the error replaced
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def _with_rate_headers(message: Any, state: RequestState) -> Any:
    decision = state.decision
    if decision is not None:
        message["headers"] = [*message.get("headers", ()), *decision.headers()]
    return message
