"""Companies: the tenants of a deployment."""

from __future__ import annotations

from relance.companies import repository
from relance.db import Connection
from relance.kit.time import utc_now


class InvalidCompanyName(ValueError):
    pass


async def create_company(conn: Connection, name: str) -> int:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidCompanyName("a company name is 1 to 200 characters")
    return await repository.insert_company(conn, name, utc_now())
