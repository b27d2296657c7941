"""OAuth 2.0 client credentials as an httpx.Auth: the token is fetched on first use, cached,
renewed shortly before it expires, renewed once more if the API answers 401 anyway (revoked,
or the server's keys rotated), and one renewal serves every request waiting on it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Generator

# By name, so that a test can move this clock alone (asyncio's and httpx's keep theirs).
from time import monotonic

import httpx

from relance.client._errors import status_error

# Renewed this long before the server says the token expires (a tenth of a short lifetime): a
# request never leaves with a token about to lapse in flight.
EARLY_RENEWAL_SECONDS = 60.0


class ClientCredentials(httpx.Auth):
    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._token: str | None = None
        self._renew_at = 0.0
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self._token_url, data=self._form)

    def _keep(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise status_error(response)
        body = response.json()
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 3600))
        early = min(EARLY_RENEWAL_SECONDS, lifetime / 10)
        self._renew_at = monotonic() + lifetime - early

    def _must_renew(self, refused: str | None) -> bool:
        """No token yet, one about to expire, or the one the API just refused (unless another
        request has renewed it meanwhile)."""
        return self._token is None or monotonic() >= self._renew_at or self._token == refused

    @staticmethod
    def _signed(request: httpx.Request, token: str | None) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        refused = None
        for _attempt in range(2):
            # The token request goes out through the caller's own client (its transport,
            # proxies, timeouts); one thread renews while the others wait for its token.
            with self._thread_lock:
                if self._must_renew(refused):
                    token_response = yield self._token_request()
                    token_response.read()
                    self._keep(token_response)
                used = self._token
            response = yield self._signed(request, used)
            if response.status_code != 401:
                return
            refused = used

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        refused = None
        for _attempt in range(2):
            async with self._async_lock:
                if self._must_renew(refused):
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self._keep(token_response)
                used = self._token
            response = yield self._signed(request, used)
            if response.status_code != 401:
                return
            refused = used
