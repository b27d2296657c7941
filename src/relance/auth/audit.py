"""The audit trail of the token endpoint: who got a token, who was refused, from where; and
the matching counts in the metrics.

Never the secret, never the token. A claimed client ID is logged only if it has the shape of
the IDs Relance makes: anything else may be a secret sent in the wrong field (the two swapped in
a form or in a Basic pair), so only its length is.
"""

from __future__ import annotations

import logging

from relance.auth.credentials import looks_like_client_id
from relance.observability.metrics import TOKENS_ISSUED, TOKENS_REFUSED

log = logging.getLogger("relance.audit")


def token_issued(client_id: str, address: str, scopes: tuple[str, ...]) -> None:
    TOKENS_ISSUED.inc()
    fields = {"client_id": client_id, "address": address[:64], "scope": " ".join(scopes)}
    log.info("token issued", extra={"fields": fields})


def token_refused(client_id: str | None, address: str, error: str) -> None:
    TOKENS_REFUSED.labels(error).inc()
    fields = {"client_id": _shown(client_id), "address": address[:64], "error": error}
    log.warning("token refused", extra={"fields": fields})


def _shown(client_id: str | None) -> str | None:
    if client_id is None or looks_like_client_id(client_id):
        return client_id
    return f"(not a client ID: {len(client_id)} characters)"
