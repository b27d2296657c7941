"""Webhook signing secrets: made here, stored only sealed.

A signing secret has to be stored so that each request can be signed with it (a hash would not
do), so it is sealed with AES-GCM under a key derived from the deployment's secret
(`DeploymentKeys.webhook_secrets`): a copy of the database alone gives no one the power to sign.
Each seal names what it belongs to (the endpoint's row) as associated data, so that a sealed
secret copied into another row, or another company's, no longer opens.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from relance.webhooks.signing import SECRET_PREFIX

# Standard Webhooks asks for 24 to 64 random bytes; 32 is the strength of the HMAC's SHA-256.
SECRET_BYTES = 32
KEY_BYTES = 32
SEALED_PREFIX = "v1:"
# AES-GCM's standard nonce: random, it is safe for about 2**32 seals under one key, far more
# secrets than a deployment makes.
_NONCE_BYTES = 12
_TAG_BYTES = 16


def new_secret() -> str:
    """A fresh endpoint secret, `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


class SecretBox:
    """Seals and opens secrets under one key; `context` binds each seal to its place."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a webhook secret box takes a {KEY_BYTES}-byte key")
        self._aead = AESGCM(key)

    def seal(self, secret: str, context: bytes) -> str:
        """`v1:` and the base64 of the nonce, the ciphertext and its tag."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), context)
        return SEALED_PREFIX + base64.b64encode(sealed).decode("ascii")

    def open(self, sealed: str, context: bytes) -> str:
        """The secret `seal(secret, context)` sealed, under this box's key."""
        raw = _unwrapped(sealed)
        try:
            secret = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context)
        except InvalidTag:
            raise ValueError(
                "the sealed webhook secret does not open: sealed for another context "
                "(another endpoint), under another deployment's key, or altered"
            ) from None
        return secret.decode()


def _unwrapped(sealed: str) -> bytes:
    if not sealed.startswith(SEALED_PREFIX):
        raise ValueError(f"a sealed webhook secret starts with {SEALED_PREFIX!r}")
    try:
        raw = base64.b64decode(sealed.removeprefix(SEALED_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a sealed webhook secret is base64 after its prefix") from None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise ValueError("a sealed webhook secret is too short to hold a nonce and a tag")
    return raw
