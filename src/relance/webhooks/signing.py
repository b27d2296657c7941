"""How a webhook request is signed, and how a receiver checks it.

Every request carries two signatures of the same body: GetBill's `X-GetBill-Signature` (the hex
HMAC-SHA256 of the raw body, keyed with the whole secret string), so that receivers written for
GetBill keep working, and Standard Webhooks v1.0.0's `webhook-id`, `webhook-timestamp` and
`webhook-signature`, which also cover the message ID and the moment of sending (a replayed request
is refused once it is older than the receiver's tolerance) and carry one signature per secret
still valid, so that a secret can be rotated without a receiver missing a request.

Standard library only: receivers install `relance` without the server's packages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

GETBILL_SIGNATURE = "X-GetBill-Signature"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
CONTENT_TYPE = "Content-Type"

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
# Unix seconds are ten digits until the year 2286; a longer header is not a moment worth parsing.
_MAX_TIMESTAMP_DIGITS = 12


class HeaderItems(Protocol):
    """A request's headers as any framework holds them: a Mapping (a dict, httpx's or
    Starlette's Headers) or Werkzeug's (Flask's) Headers, which is not one."""

    def items(self) -> Iterable[tuple[str, str]]: ...


class WebhookVerificationError(ValueError):
    """A request that does not prove it comes from the holder of the secret, and why not."""


def getbill_signature(secret: str, body: bytes) -> str:
    """GetBill's signature: what its Node receiver recomputes with
    `crypto.createHmac('sha256', secret).update(rawBody).digest('hex')`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `webhook-signature` item, `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    if "." in msg_id:
        # The signed content is delimited by dots: an ID holding one could be read as another
        # split of the same bytes (the specification asks senders to exclude it).
        raise ValueError("a webhook message ID cannot contain '.'")
    if timestamp < 0:
        raise ValueError("a webhook timestamp is Unix seconds, not negative")
    digest = _standard_digest(signing_key(secret), msg_id, str(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of a webhook request whose endpoint's valid secrets are `secrets`, newest
    first."""
    if not secrets:
        raise ValueError("a webhook request is signed with at least one secret")
    return {
        CONTENT_TYPE: "application/json",
        WEBHOOK_ID: msg_id,
        WEBHOOK_TIMESTAMP: str(timestamp),
        WEBHOOK_SIGNATURE: " ".join(
            standard_signature(s, msg_id, timestamp, body) for s in secrets
        ),
        # GetBill's header holds a single signature, so only the newest secret signs it: a
        # GetBill-style receiver moves to the new secret when the rotation starts.
        GETBILL_SIGNATURE: getbill_signature(secrets[0], body),
    }


def verify(
    body: bytes | str,
    headers: HeaderItems,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Return if the request was signed with `secret`, else raise WebhookVerificationError.

    `body` is the raw body as received (parsed and serialized again it would no longer match).
    A request with Standard Webhooks headers is checked by them alone, its timestamp within
    `tolerance_seconds` of `now` either way; one without is checked by its X-GetBill-Signature,
    which covers the body only, so that a replay of such a request is not detected here.
    A secret that is not a Standard Webhooks secret raises a plain ValueError: that is the
    receiver's configuration at fault, not the request.
    """
    raw = body.encode() if isinstance(body, str) else body
    found = _lowercased(headers)
    if WEBHOOK_SIGNATURE in found:
        _verify_standard(raw, found, secret, tolerance_seconds, time.time() if now is None else now)
    elif GETBILL_SIGNATURE.lower() in found:
        _verify_getbill(raw, found[GETBILL_SIGNATURE.lower()], secret)
    else:
        raise WebhookVerificationError(
            f"the request has no {WEBHOOK_SIGNATURE} header (nor {GETBILL_SIGNATURE})"
        )


def signing_key(secret: str) -> bytes:
    """The HMAC key a Standard Webhooks secret stands for: the base64 after `whsec_`."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    # Other senders' secrets may come unpadded; base64 of whole bytes pads to a multiple of 4.
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        # The secret itself stays out of the message: messages end up in logs.
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("a webhook secret cannot be empty")
    return key


def _verify_standard(
    body: bytes, headers: Mapping[str, str], secret: str, tolerance: int, now: float
) -> None:
    msg_id = _required(headers, WEBHOOK_ID)
    timestamp = _required(headers, WEBHOOK_TIMESTAMP)
    _check_timestamp(timestamp, tolerance, now)
    # Signed as the sender wrote them: the header's text, not a number formatted again.
    expected = _standard_digest(signing_key(secret), msg_id, timestamp, body)
    # One item per secret the sender still signs with; items of other schemes (v1a) are skipped.
    items = (item.partition(",") for item in headers[WEBHOOK_SIGNATURE].split())
    candidates = (
        _decoded_signature(sig) for version, _, sig in items if version == SIGNATURE_VERSION
    )
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookVerificationError(
            f"no {SIGNATURE_VERSION} signature in {WEBHOOK_SIGNATURE} matches this body and secret"
        )


def _verify_getbill(body: bytes, header: str, secret: str) -> None:
    expected = getbill_signature(secret, body).encode()
    # Compared as bytes: compare_digest refuses a str holding anything but ASCII.
    if not hmac.compare_digest(expected, header.strip().encode("utf-8", "replace")):
        raise WebhookVerificationError(f"{GETBILL_SIGNATURE} does not match this body and secret")


def _check_timestamp(header: str, tolerance: int, now: float) -> None:
    if not (header.isascii() and header.isdigit() and len(header) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookVerificationError(f"{WEBHOOK_TIMESTAMP} is not Unix seconds: {header[:20]!r}")
    age = now - int(header)
    if age > tolerance:
        raise WebhookVerificationError(
            f"{WEBHOOK_TIMESTAMP} is {age:.0f} s old, beyond the {tolerance} s tolerated"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"{WEBHOOK_TIMESTAMP} is {-age:.0f} s in the future, beyond the {tolerance} s tolerated"
        )


def _standard_digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    signed = b".".join((msg_id.encode(), timestamp.encode(), body))
    return hmac.new(key, signed, hashlib.sha256).digest()


def _decoded_signature(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b""  # matches no digest, and is compared like any other item


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise WebhookVerificationError(f"the request has no {name} header")
    return value


def _lowercased(headers: HeaderItems) -> dict[str, str]:
    """The headers by lowercase name, whatever case the mapping keeps (a plain dict) or
    ignores (httpx, Starlette, Werkzeug)."""
    return {name.lower(): value for name, value in headers.items()}
