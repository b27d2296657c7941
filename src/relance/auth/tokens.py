"""Signed access tokens (JWT, HS256) carrying the client, its company and the granted scopes."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from relance.kit.ids import IdCodec, MalformedId
from relance.resources import Resource

ALGORITHM = "HS256"


def _kid(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


VERIFIED_TOKENS_KEPT = 10_000
# The newest expiry a datetime can hold (9999-12-31T23:59:59Z), and the largest secret version
# the database stores (a 64-bit integer).
_LAST_SECOND = 253_402_300_799
_MAX_SV = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an OAuth client acting for its company."""

    client_id: str
    company_id: int
    scopes: frozenset[str]
    # The client's secret version the token was issued under.
    secret_version: int = 1


class InvalidToken(Exception):
    pass


class UnknownSigningKey(InvalidToken):
    """Signed with a key this process does not know (yet: another may have just rotated)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService:
    def __init__(
        self, signing_key: Callable[[int], bytes], issuer: str, ttl_seconds: int, ids: IdCodec
    ) -> None:
        self._signing_key = signing_key
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._ids = ids
        self._verified: dict[str, tuple[Principal, int]] = {}
        self.use_versions([1])

    def use_versions(self, versions: Iterable[int]) -> None:
        """Sign with the newest version; accept tokens signed with any of them. Each token names
        its key (kid), so tokens signed before a rotation stay good until they expire."""
        keys = {version: self._signing_key(version) for version in versions}
        self._keys = {_kid(key): key for key in keys.values()}
        newest = keys[max(keys)]
        self._current = (_kid(newest), newest)

    def issue(self, principal: Principal, now: datetime) -> IssuedToken:
        issued_at = int(now.timestamp())
        claims = {
            "iss": self._issuer,
            "sub": principal.client_id,
            "company_id": self._ids.encode(Resource.COMPANY, principal.company_id),
            "scope": " ".join(sorted(principal.scopes)),
            "sv": principal.secret_version,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self._ttl,
            "jti": uuid.uuid4().hex,
        }
        kid, key = self._current
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return IssuedToken(token, self._ttl)

    def verify(self, token: str) -> Principal:
        """The token's principal. A token verified once is remembered until it expires, since
        checking its signature and claims is a large share of a small request's cost; the key is
        the whole token, signature included, so only genuine tokens are ever remembered."""
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] > time.time():
            return remembered[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()  # a crude bound, but a hit stays a single dict lookup
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken from exc
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise UnknownSigningKey
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["iss", "sub", "exp", "iat", "nbf", "jti", "sv"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken from exc
        _whole(claims, "iat", _LAST_SECOND)
        _whole(claims, "nbf", _LAST_SECOND)
        return self._principal_of(claims), _whole(claims, "exp", _LAST_SECOND)

    def _principal_of(self, claims: dict[str, Any]) -> Principal:
        """Only tokens signed here get this far, but their claims are still checked for type:
        a claim of the wrong shape is a bad token (401), never a server error."""
        try:
            company_id = self._ids.decode(Resource.COMPANY, _text(claims, "company_id"))
        except MalformedId:
            raise InvalidToken from None
        scopes = frozenset(_text(claims, "scope").split())
        return Principal(_text(claims, "sub"), company_id, scopes, _whole(claims, "sv", _MAX_SV))


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str):
        raise InvalidToken(f"claim {name} is not a string")
    return value


def _whole(claims: dict[str, Any], name: str, highest: int) -> int:
    value = claims.get(name)
    # bool is an int subclass, and PyJWT's own checks accept floats and numeric strings.
    if type(value) is not int or not 0 < value <= highest:
        raise InvalidToken(f"claim {name} is not a whole number from 1 to {highest}")
    return value
