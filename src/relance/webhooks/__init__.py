"""Relance's webhooks: each change event POSTed to the endpoints that subscribe to it, signed.

A receiver checks a request with `from relance.webhooks import verify` (the client install,
`pip install relance`, is enough). The server's modules live beside this one and are imported
by their own paths, so that importing this package loads the standard library's HMAC and
nothing of the server.
"""

from __future__ import annotations

from relance.webhooks.signing import WebhookVerificationError, verify

__all__ = ["WebhookVerificationError", "verify"]
