"""Client IDs and secrets: random, recognisable, and stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from relance.kit.ids import ALPHABET

CLIENT_ID_PREFIX = "rlc_"
# A distinctive prefix lets secret scanners recognise a leaked secret.
CLIENT_SECRET_PREFIX = "relance_sk_"  # noqa: S105 - a prefix, not a secret
_SECRET_CHARS = 43  # 43 base62 characters carry more than 256 bits
_ID_CHARS = 22
# Every client ID Relance has made has this shape: anything else names no client.
_CLIENT_ID_SHAPE = re.compile(rf"{CLIENT_ID_PREFIX}[0-9A-Za-z]{{{_ID_CHARS}}}")


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + _random_text(_ID_CHARS)


def looks_like_client_id(text: str) -> bool:
    """Whether `text` could be a client ID made here: a secret sent in the client ID's place,
    or a made-up ID of any length, could not."""
    return _CLIENT_ID_SHAPE.fullmatch(text) is not None


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + _random_text(_SECRET_CHARS)


def derived_client_secret(key: bytes, client_id: str) -> str:
    """A secret that the holder of `key` can compute again (demo clients only)."""
    digest = hmac.new(key, client_id.encode(), hashlib.sha512).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(_SECRET_CHARS):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return CLIENT_SECRET_PREFIX + "".join(chars)


def hash_secret(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(key: bytes, secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(key, secret), stored_hash)


def _random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
