"""Signed access tokens (JWT, HS256) carrying the client, its company and the granted scopes."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt

from relance.kit.ids import IdCodec, MalformedId, Resource

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an OAuth client acting for its company."""

    client_id: str
    company_id: int
    scopes: frozenset[str]


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService:
    def __init__(self, key: bytes, issuer: str, ttl_seconds: int, ids: IdCodec) -> None:
        self._key = key
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._ids = ids
        # Names the key in each token's header, so tokens survive a future key rotation.
        self._kid = hashlib.sha256(key).hexdigest()[:16]

    def issue(self, principal: Principal, now: datetime) -> IssuedToken:
        issued_at = int(now.timestamp())
        claims = {
            "iss": self._issuer,
            "sub": principal.client_id,
            "company_id": self._ids.encode(Resource.COMPANY, principal.company_id),
            "scope": " ".join(sorted(principal.scopes)),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self._ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})
        return IssuedToken(token, self._ttl)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["iss", "sub", "exp", "iat", "nbf", "jti"]},
            )
            company_id = self._ids.decode(Resource.COMPANY, str(claims["company_id"]))
            return Principal(
                str(claims["sub"]), company_id, frozenset(str(claims["scope"]).split())
            )
        except (jwt.PyJWTError, MalformedId, KeyError) as exc:
            raise InvalidToken from exc
