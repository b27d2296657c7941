"""The audit trail of the token endpoint: who got a token, who was refused, from where; and
the matching counts in the metrics.

Never the secret, never the token. Client IDs come from the caller, so they are cut short.
"""

from __future__ import annotations

import logging

from relance.observability.metrics import TOKENS_ISSUED, TOKENS_REFUSED

log = logging.getLogger("relance.audit")


def token_issued(client_id: str, address: str, scopes: tuple[str, ...]) -> None:
    TOKENS_ISSUED.inc()
    fields = {"client_id": client_id[:64], "address": address, "scope": " ".join(scopes)}
    log.info("token issued", extra={"fields": fields})


def token_refused(client_id: str | None, address: str, error: str) -> None:
    TOKENS_REFUSED.labels(error).inc()
    shown = None if client_id is None else client_id[:64]
    fields = {"client_id": shown, "address": address, "error": error}
    log.warning("token refused", extra={"fields": fields})
