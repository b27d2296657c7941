"""An endpoint's row: made, read, changed and deleted within its company only."""

from __future__ import annotations

from collections.abc import Mapping

from relance.db import Connection
from relance.db.statements import rows_changed
from relance.webhooks.records import EndpointSecrets, StoredEndpoint

_COLUMNS = (
    "id, company_id, url, description, enabled_events, status, disabled_reason,"
    " created_us, updated_us"
)
# What PATCH may change, and what disabling or rotating sets.
_CHANGEABLE = frozenset(
    {"url", "description", "enabled_events", "status", "disabled_reason", "failing_since_us"}
)


async def insert_endpoint(
    conn: Connection,
    company_id: int,
    url: str,
    description: str | None,
    enabled_events: str,
    now_us: int,
) -> int:
    """A new enabled endpoint, its secret still to be set (it is sealed with the row's key)."""
    return int(
        await conn.fetchval(
            "INSERT INTO webhook_endpoints (company_id, url, description, enabled_events,"
            " status, secret, created_us, updated_us)"
            " VALUES ($1, $2, $3, $4, 'enabled', '', $5, $5) RETURNING id",
            company_id,
            url,
            description,
            enabled_events,
            now_us,
        )
    )


async def stored_endpoint(
    conn: Connection, company_id: int, endpoint_id: int, *, for_update: bool = False
) -> StoredEndpoint | None:
    # FOR UPDATE: a change reads the row it is about to write under the row's lock.
    lock = " FOR UPDATE" if for_update and conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND company_id = $2{lock}",
        endpoint_id,
        company_id,
    )
    return None if row is None else StoredEndpoint(*row)


async def endpoints_page(
    conn: Connection, company_id: int, before_id: int | None, limit: int
) -> list[StoredEndpoint]:
    """Up to `limit` + 1 of the company's endpoints, newest first, older than `before_id`."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE company_id = $1 AND id < $2"
        " ORDER BY id DESC LIMIT $3",
        company_id,
        before_id if before_id is not None else 2**62,
        limit + 1,
    )
    return [StoredEndpoint(*row) for row in rows]


async def update_endpoint(
    conn: Connection, endpoint_id: int, values: Mapping[str, object], now_us: int
) -> None:
    unknown = set(values) - _CHANGEABLE
    if unknown:
        raise ValueError(f"not a changeable column of an endpoint: {sorted(unknown)}")
    names = sorted(values)
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=3))
    await conn.execute(
        f"UPDATE webhook_endpoints SET updated_us = $2{', ' if sets else ''}{sets} WHERE id = $1",
        endpoint_id,
        now_us,
        *(values[name] for name in names),
    )


async def delete_endpoint(conn: Connection, company_id: int, endpoint_id: int) -> bool:
    """Delete the endpoint with its deliveries and their attempts (the keys cascade)."""
    deleted = await conn.execute(
        "DELETE FROM webhook_endpoints WHERE id = $1 AND company_id = $2", endpoint_id, company_id
    )
    return rows_changed(deleted) > 0


async def endpoint_secrets(conn: Connection, endpoint_id: int) -> EndpointSecrets:
    row = await conn.fetchrow(
        "SELECT secret, previous_secret, previous_secret_expires_us FROM webhook_endpoints"
        " WHERE id = $1",
        endpoint_id,
    )
    if row is None:
        raise LookupError(f"no webhook endpoint {endpoint_id}")
    return EndpointSecrets(*row)


async def set_secrets(conn: Connection, endpoint_id: int, secrets: EndpointSecrets) -> None:
    await conn.execute(
        "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3,"
        " previous_secret_expires_us = $4 WHERE id = $1",
        endpoint_id,
        secrets.secret,
        secrets.previous,
        secrets.previous_expires_us,
    )


async def owner(conn: Connection, table: str, key: int) -> int | None:
    """The company an endpoint or a delivery belongs to (for the operator's commands, which
    name only the object)."""
    if table not in ("webhook_endpoints", "webhook_deliveries"):
        raise ValueError(f"not a webhook table: {table}")
    found = await conn.fetchval(f"SELECT company_id FROM {table} WHERE id = $1", key)
    return None if found is None else int(found)
