"""The audit trail of the token endpoint: who got a token, who was refused, from where.

Never the secret, never the token. Client IDs come from the caller, so they are logged quoted
and cut short: a forged ID cannot forge a log line.
"""

from __future__ import annotations

import logging

log = logging.getLogger("relance.audit")


def token_issued(client_id: str, address: str, scopes: tuple[str, ...]) -> None:
    log.info(
        "token issued client_id=%r address=%s scope=%r", client_id[:64], address, " ".join(scopes)
    )


def token_refused(client_id: str | None, address: str, error: str) -> None:
    shown = None if client_id is None else client_id[:64]
    log.warning("token refused client_id=%r address=%s error=%s", shown, address, error)
