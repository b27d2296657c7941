"""Webhook secrets: how a new one looks, and the box that keeps them sealed in the database,
bound to their row and to the deployment's key."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st

from relance.keys import DeploymentKeys
from relance.webhooks.secrets import SecretBox, new_secret
from relance.webhooks.signing import signed_headers, signing_key, verify

KEYS = DeploymentKeys.derive(b"a deployment secret for the webhook tests")
OTHER_KEYS = DeploymentKeys.derive(b"another deployment's secret, same tests")
CONTEXT = b"webhook endpoint 41"
OTHER_CONTEXT = b"webhook endpoint 42"
SEALED = re.compile(r"v1:[A-Za-z0-9+/]+={0,2}")


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(KEYS.webhook_secrets)


class TestNewSecret:
    def test_it_is_the_prefix_and_the_base64_of_32_random_bytes(self) -> None:
        secret = new_secret()
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert len({new_secret() for _ in range(100)}) == 100

    def test_it_signs_and_the_reference_library_reads_it(self) -> None:
        secret = new_secret()
        assert len(signing_key(secret)) == 32
        headers = signed_headers([secret], "msg_1", 1_700_000_000, b"{}")
        verify(b"{}", headers, secret, now=1_700_000_000)
        # The reference library decodes the secret the same way: its signature equals ours.
        moment = datetime.fromtimestamp(1_700_000_000, tz=UTC)
        assert (
            standardwebhooks.Webhook(secret).sign("msg_1", moment, "{}")
            == (headers["webhook-signature"])
        )


class TestDeploymentKey:
    def test_the_webhook_key_is_its_own(self) -> None:
        assert len(KEYS.webhook_secrets) == 32
        others = {KEYS.id_encryption, KEYS.client_secret_hashing, KEYS.demo_credentials}
        assert KEYS.webhook_secrets not in others | {KEYS.media_urls, KEYS.token_signing(1)}
        assert KEYS.webhook_secrets != OTHER_KEYS.webhook_secrets
        derived_again = DeploymentKeys.derive(b"a deployment secret for the webhook tests")
        assert derived_again.webhook_secrets == KEYS.webhook_secrets


class TestSecretBox:
    def test_a_sealed_secret_opens_with_its_key_and_context(self, box: SecretBox) -> None:
        secret = new_secret()
        sealed = box.seal(secret, CONTEXT)
        assert SEALED.fullmatch(sealed)
        assert box.open(sealed, CONTEXT) == secret
        # Another box on the same key: what another process of the deployment opens.
        assert SecretBox(KEYS.webhook_secrets).open(sealed, CONTEXT) == secret

    def test_two_seals_of_one_secret_differ(self, box: SecretBox) -> None:
        secret = new_secret()
        first, second = box.seal(secret, CONTEXT), box.seal(secret, CONTEXT)
        assert first != second
        assert box.open(first, CONTEXT) == box.open(second, CONTEXT) == secret

    def test_the_sealed_text_holds_nothing_of_the_secret(self, box: SecretBox) -> None:
        secret = new_secret()
        sealed = box.seal(secret, CONTEXT)
        encoded = secret.removeprefix("whsec_")
        assert secret not in sealed
        assert "whsec_" not in sealed
        # Nor any stretch of it long enough to mean anything.
        assert all(encoded[i : i + 8] not in sealed for i in range(len(encoded) - 7))
        assert signing_key(secret) not in base64.b64decode(sealed.removeprefix("v1:"))

    def test_another_context_is_refused(self, box: SecretBox) -> None:
        sealed = box.seal(new_secret(), CONTEXT)
        with pytest.raises(ValueError, match="does not open: sealed for another context"):
            box.open(sealed, OTHER_CONTEXT)
        with pytest.raises(ValueError, match="does not open"):
            box.open(sealed, b"")

    def test_another_deployments_key_is_refused(self, box: SecretBox) -> None:
        sealed = box.seal(new_secret(), CONTEXT)
        with pytest.raises(ValueError, match="another deployment's key"):
            SecretBox(OTHER_KEYS.webhook_secrets).open(sealed, CONTEXT)
        with pytest.raises(ValueError, match="does not open"):
            SecretBox(KEYS.media_urls).open(sealed, CONTEXT)

    def test_an_altered_seal_is_refused(self, box: SecretBox) -> None:
        raw = bytearray(base64.b64decode(box.seal(new_secret(), CONTEXT).removeprefix("v1:")))
        for position in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
            altered = raw.copy()
            altered[position] ^= 0x01
            with pytest.raises(ValueError, match="altered"):
                box.open("v1:" + base64.b64encode(altered).decode(), CONTEXT)

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("", "starts with 'v1:'"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'v1:'"),
            ("v2:AAAA", "starts with 'v1:'"),
            ("v1:not base64!", "base64 after its prefix"),
            ("v1:" + base64.b64encode(b"x" * 27).decode(), "too short"),
        ],
    )
    def test_text_that_is_no_seal_is_refused(self, box: SecretBox, text: str, reason: str) -> None:
        with pytest.raises(ValueError, match=re.escape(reason)):
            box.open(text, CONTEXT)

    @pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
    def test_a_key_of_another_length_is_refused(self, length: int) -> None:
        with pytest.raises(ValueError, match="32-byte key"):
            SecretBox(b"k" * length)

    @given(secret=st.text(st.characters(codec="utf-8")), context=st.binary(max_size=64))
    def test_any_secret_and_context_round_trip(self, secret: str, context: bytes) -> None:
        box = SecretBox(KEYS.webhook_secrets)
        assert box.open(box.seal(secret, context), context) == secret
