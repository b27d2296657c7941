"""The synchronous client's company: its profile, its users and its credits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relance.client._base import API, data_of
from relance.client._models import CompanyProfile, Credits, User

if TYPE_CHECKING:
    from relance.client._sync import Relance

COMPANY = f"{API}/company"


class Company:
    """The token's company (scope company:read; its users, users:read)."""

    def __init__(self, client: Relance) -> None:
        self._client = client

    def profile(self) -> CompanyProfile:
        return data_of(self._client.request("GET", f"{COMPANY}/profile"), CompanyProfile)

    def users(self) -> list[User]:
        """Every user of the company, in one answer (GetBill does not page them)."""
        found = self._client.request("GET", f"{COMPANY}/users")
        return [User.model_validate(user) for user in found["data"]]

    def credits(self) -> Credits:
        return data_of(self._client.request("GET", f"{COMPANY}/credits"), Credits)
