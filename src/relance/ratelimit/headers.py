"""Writes the rate-limit headers into every response of a request that was charged."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from relance.ratelimit.service import decision_of


def rate_limit_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = decision_of(scope)
                if decision is not None:
                    message["headers"] = [*message.get("headers", ()), *decision.headers()]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
