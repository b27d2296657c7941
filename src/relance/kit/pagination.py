"""Page arithmetic shared by every list endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Lists paged by cursor (events, webhook endpoints and deliveries), as Stripe's.
CURSOR_DEFAULT = 10
CURSOR_MAX = 100
# Large enough for any real book, small enough that page * limit stays a 64-bit offset.
MAX_PAGE = 2_147_483_647


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def envelope(self, total: int) -> dict[str, int]:
        return {
            "total": total,
            "page": self.page,
            "limit": self.limit,
            "pages": -(-total // self.limit),
        }


def cursor_page(data: list[Any], limit: int, has_more: bool) -> dict[str, Any]:
    """A cursor page in the API's envelope: newest first, `starting_after` the last ID."""
    last = data[-1].id if data and has_more else None
    page = {"limit": limit, "has_more": has_more, "next_starting_after": last}
    return {"error": False, "data": data, "pagination": page}
