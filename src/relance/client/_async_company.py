"""The asynchronous client's company: the synchronous one's twin, awaited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relance.client._base import API, data_of
from relance.client._models import CompanyProfile, Credits, User

if TYPE_CHECKING:
    from relance.client._async import AsyncRelance

COMPANY = f"{API}/company"


class Company:
    """The token's company (scope company:read; its users, users:read)."""

    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    async def profile(self) -> CompanyProfile:
        return data_of(await self._client.request("GET", f"{COMPANY}/profile"), CompanyProfile)

    async def users(self) -> list[User]:
        """Every user of the company, in one answer (GetBill does not page them)."""
        found = await self._client.request("GET", f"{COMPANY}/users")
        return [User.model_validate(user) for user in found["data"]]

    async def credits(self) -> Credits:
        return data_of(await self._client.request("GET", f"{COMPANY}/credits"), Credits)
