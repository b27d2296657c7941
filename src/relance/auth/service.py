"""OAuth rules: issuing clients, exchanging client credentials for tokens, reading tokens."""

from __future__ import annotations

from dataclasses import dataclass

from relance.auth import repository
from relance.auth.authority import Authority
from relance.auth.credentials import (
    derived_client_secret,
    hash_secret,
    looks_like_client_id,
    new_client_id,
    new_client_secret,
    secret_matches,
)
from relance.auth.scopes import UnknownScopes, parse_scopes
from relance.auth.tokens import InvalidToken, IssuedToken, Principal, UnknownSigningKey
from relance.db import Connection
from relance.errors import MissingScope, OAuthError, Unauthenticated
from relance.keys import DeploymentKeys
from relance.kit.time import utc_now


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    client_secret: str
    company_id: int
    scopes: tuple[str, ...]


async def create_client(
    conn: Connection,
    keys: DeploymentKeys,
    company_id: int,
    scopes: tuple[str, ...],
    name: str | None = None,
    *,
    reproducible: bool = False,
    read_limit: int | None = None,
    write_limit: int | None = None,
) -> NewClient:
    """A new client; `reproducible` derives the secret from the deployment key (demo only)."""
    client_id = new_client_id()
    secret = (
        derived_client_secret(keys.demo_credentials, client_id)
        if reproducible
        else new_client_secret()
    )
    await repository.insert_client(
        conn,
        client_id=client_id,
        secret_hash=hash_secret(keys.client_secret_hashing, secret),
        company_id=company_id,
        scopes=scopes,
        name=name,
        now=utc_now(),
        read_limit=read_limit,
        write_limit=write_limit,
    )
    return NewClient(client_id, secret, company_id, scopes)


async def exchange_client_credentials(
    db: Connection,
    authority: Authority,
    client_id: str,
    client_secret: str,
    scope: str | None,
    *,
    basic: bool,
) -> tuple[IssuedToken, tuple[str, ...]]:
    # Only a client ID of the shape Relance makes reaches the database: no other names a client
    # (and PostgreSQL refuses a NUL byte outright).
    plausible = looks_like_client_id(client_id)
    client = await repository.find_client(db, client_id) if plausible else None
    if client is not None and client.revoked:
        client = None
    # The hash is computed even for an unknown client, and both failures read the same, so
    # neither the answer nor its timing tells which client IDs exist.
    stored_hash = client.secret_hash if client is not None else ""
    matches = secret_matches(authority.secret_hashing, client_secret, stored_hash)
    if client is None or not matches:
        headers = {"WWW-Authenticate": 'Basic realm="relance"'} if basic else None
        raise OAuthError(
            "invalid_client", "Client authentication failed", status=401, headers=headers
        )
    granted = _granted_scopes(client.scopes, scope)
    principal = Principal(
        client.client_id, client.company_id, frozenset(granted), client.secret_version
    )
    await authority.keyring.refresh_if_stale(db)
    return authority.tokens.issue(principal, utc_now()), granted


def _granted_scopes(allowed: tuple[str, ...], requested: str | None) -> tuple[str, ...]:
    if requested is None:
        return allowed
    try:
        wanted = parse_scopes(requested)
    except UnknownScopes as exc:
        raise OAuthError("invalid_scope", str(exc)) from exc
    if not wanted:
        raise OAuthError("invalid_scope", "scope is empty; omit it to be granted every scope")
    refused = [name for name in wanted if name not in allowed]
    if refused:
        raise OAuthError(
            "invalid_scope", f"scope(s) not allowed for this client: {' '.join(refused)}"
        )
    return wanted


async def authenticate(
    db: Connection, authority: Authority, authorization: str | None
) -> Principal:
    """The principal behind an `Authorization: Bearer` header, whose client is neither revoked
    nor newer in its secret than the token."""
    if not authorization:
        raise Unauthenticated(token_given=False)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(token_given=False)
    principal = await _verified(db, authority, token.strip())
    if await authority.standings.refuses(db, principal):
        raise Unauthenticated(token_given=True)
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise MissingScope(scope)


async def _verified(db: Connection, authority: Authority, token: str) -> Principal:
    try:
        return authority.tokens.verify(token)
    except UnknownSigningKey:
        # Another process may have rotated the signing key since this one last looked.
        if not await authority.keyring.refresh_for_unknown_key(db):
            raise Unauthenticated(token_given=True) from None
    except InvalidToken:
        raise Unauthenticated(token_given=True) from None
    try:
        return authority.tokens.verify(token)
    except InvalidToken:
        raise Unauthenticated(token_given=True) from None


async def rotate_signing_key(conn: Connection) -> int:
    return await repository.add_signing_version(conn, utc_now())


async def revoke_client(conn: Connection, client_id: str) -> bool:
    return await repository.revoke_client(conn, client_id, utc_now())


async def set_limits(
    conn: Connection, client_id: str, read_limit: int | None, write_limit: int | None
) -> bool:
    return await repository.set_limits(conn, client_id, read_limit, write_limit, utc_now())


async def rotate_secret(conn: Connection, keys: DeploymentKeys, client_id: str) -> str | None:
    """A new secret for a live client, or None; the old secret and older tokens stop working."""
    secret = new_client_secret()
    key = keys.client_secret_hashing
    replaced = await repository.replace_secret(conn, client_id, hash_secret(key, secret), utc_now())
    return secret if replaced else None
