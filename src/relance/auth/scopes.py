"""The GetBill scope vocabulary."""

from __future__ import annotations

FOLLOWUPS_READ = "followups:read"
FOLLOWUPS_WRITE = "followups:write"
DEBTS_READ = "debts:read"
DEBTS_WRITE = "debts:write"
WEBHOOKS_READ = "webhooks:read"
WEBHOOKS_WRITE = "webhooks:write"
COMPANY_READ = "company:read"
USERS_READ = "users:read"
DEBTORS_READ = "debtors:read"
DEBTORS_WRITE = "debtors:write"
CREDITORS_READ = "creditors:read"
CREDITORS_WRITE = "creditors:write"

ALL_SCOPES: tuple[str, ...] = (
    DEBTS_READ,
    DEBTS_WRITE,
    FOLLOWUPS_READ,
    FOLLOWUPS_WRITE,
    "reports:read",
    COMPANY_READ,
    USERS_READ,
    WEBHOOKS_READ,
    WEBHOOKS_WRITE,
    DEBTORS_READ,
    DEBTORS_WRITE,
    CREDITORS_READ,
    CREDITORS_WRITE,
)


class UnknownScopes(ValueError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"unknown scope(s): {', '.join(names)}; known scopes: {' '.join(ALL_SCOPES)}"
        )


def parse_scopes(text: str) -> tuple[str, ...]:
    """Space-separated scope names, validated, deduplicated, in canonical order."""
    names = text.split()
    unknown = sorted({name for name in names if name not in ALL_SCOPES})
    if unknown:
        raise UnknownScopes(unknown)
    return tuple(scope for scope in ALL_SCOPES if scope in names)
