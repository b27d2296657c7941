"""Page arithmetic shared by every list endpoint."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
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
