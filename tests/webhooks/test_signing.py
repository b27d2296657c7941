"""Webhook signatures: Standard Webhooks' published test vector, the reference library
(`standardwebhooks`) and GetBill's Node receiver accepting what Relance sends, over real HTTP;
rotation; what `verify` refuses and what it says; and that receivers can import it without the
server's packages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers as StarletteHeaders
from werkzeug.datastructures import Headers as WerkzeugHeaders

from relance.webhooks import WebhookVerificationError, verify
from relance.webhooks.signing import (
    GETBILL_SIGNATURE,
    HeaderItems,
    getbill_signature,
    signed_headers,
    signing_key,
    standard_signature,
)
from tests.commands import report

# Standard Webhooks' own test vector (libraries/python/tests/test_webhooks.py, test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = b'{"type":"followup.created","data":{"id":"7Yq3Kx9bLm2NpQr5StUvWx"}}'
MSG_ID = "evt_7Yq3Kx9bLm2NpQr5StUvWx"
TIMEOUT = 10  # seconds: a receiver that never answers fails the test instead of hanging it

# Packages of `relance[server]` (by module name) that a receiver's install does not have.
SERVER_MODULES = {
    "alembic",
    "asyncpg",
    "boto3",
    "cryptography",
    "jwt",
    "litestar",
    "msgspec",
    "orjson",
    "prometheus_client",
    "pydantic_settings",
    "redis",
    "sqlalchemy",
    "uvicorn",
}


def getbill_node_receiver_accepts(raw_body: bytes, headers: HeaderItems, secret: str) -> bool:
    """GetBill's documented Node receiver, in Python: Node gives header names in lowercase, and
    `crypto.createHmac('sha256', secret).update(rawBody).digest('hex')` keys the HMAC with the
    secret string's UTF-8 bytes, whole; the result is compared with the header as it came."""
    received = {name.lower(): value for name, value in headers.items()}
    expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return received.get("x-getbill-signature") == expected


def reference_library_accepts(raw_body: bytes, headers: HeaderItems, secret: str) -> bool:
    """The Standard Webhooks project's own Python verifier (it checks against the clock)."""
    try:
        standardwebhooks.Webhook(secret).verify(raw_body, dict(headers.items()), json_parse=False)
    except standardwebhooks.WebhookVerificationError:
        return False
    return True


def relance_accepts(raw_body: bytes, headers: HeaderItems, secret: str) -> bool:
    try:
        verify(raw_body, headers, secret)
    except WebhookVerificationError:
        return False
    return True


def refusal(
    body: bytes, headers: Mapping[str, str], secret: str, now: float = VECTOR_TIMESTAMP
) -> str:
    """Why verify refuses the request: its message, checked to hold nothing of the secret."""
    with pytest.raises(WebhookVerificationError) as refused:
        verify(body, headers, secret, now=now)
    message = str(refused.value)
    for secret_text in (secret, secret.removeprefix("whsec_")):
        assert secret_text not in message
    return message


def vector_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    headers.update(overrides)
    return headers


class TestStandardSignature:
    def test_the_specifications_test_vector(self) -> None:
        signature = standard_signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
        assert signature == VECTOR_SIGNATURE

    def test_the_reference_library_signs_the_same(self) -> None:
        moment = datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=UTC)
        theirs = standardwebhooks.Webhook(VECTOR_SECRET).sign(
            VECTOR_ID, moment, VECTOR_BODY.decode()
        )
        assert theirs == VECTOR_SIGNATURE

    def test_the_key_is_the_base64_after_the_prefix(self) -> None:
        assert signing_key(VECTOR_SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        # As the reference library does: no prefix, or unpadded base64, is the same key.
        assert signing_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == signing_key(VECTOR_SECRET)
        unpadded = base64.b64encode(b"k" * 31).decode().rstrip("=")
        assert signing_key("whsec_" + unpadded) == b"k" * 31

    @pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_abcde", "whsec_é"])
    def test_a_secret_that_is_not_base64_is_refused_without_showing_it(self, secret: str) -> None:
        with pytest.raises(ValueError, match="'whsec_' followed by base64") as refused:
            standard_signature(secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
        assert secret.removeprefix("whsec_") not in str(refused.value)

    def test_an_empty_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="cannot be empty"):
            standard_signature("whsec_", VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)

    def test_a_message_id_with_a_dot_is_refused(self) -> None:
        # "{id}.{timestamp}.{body}" would read as another ID, timestamp and body.
        with pytest.raises(ValueError, match=r"cannot contain '\.'"):
            standard_signature(VECTOR_SECRET, "msg.1614265330", VECTOR_TIMESTAMP, VECTOR_BODY)


class TestGetBillSignature:
    def test_it_is_the_hex_hmac_of_the_body_keyed_by_the_whole_secret(self) -> None:
        # The key is the secret string as written, prefix and base64 included, never decoded.
        expected = hmac.new(NEW_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        assert getbill_signature(NEW_SECRET, BODY) == expected
        assert expected == expected.lower()
        assert len(expected) == 64

    def test_the_node_receiver_accepts_it(self) -> None:
        headers = signed_headers([NEW_SECRET], MSG_ID, VECTOR_TIMESTAMP, BODY)
        assert getbill_node_receiver_accepts(BODY, headers, NEW_SECRET)
        assert not getbill_node_receiver_accepts(BODY, headers, OLD_SECRET)
        assert not getbill_node_receiver_accepts(BODY + b" ", headers, NEW_SECRET)


class TestSignedHeaders:
    def test_the_four_headers_and_the_content_type(self) -> None:
        headers = signed_headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
        assert headers == {
            "Content-Type": "application/json",
            "webhook-id": VECTOR_ID,
            "webhook-timestamp": "1614265330",
            "webhook-signature": VECTOR_SIGNATURE,
            GETBILL_SIGNATURE: getbill_signature(VECTOR_SECRET, VECTOR_BODY),
        }

    def test_two_secrets_sign_twice_and_getbill_takes_the_newest(self) -> None:
        headers = signed_headers([NEW_SECRET, OLD_SECRET], MSG_ID, VECTOR_TIMESTAMP, BODY)
        items = headers["webhook-signature"].split(" ")
        assert items == [
            standard_signature(NEW_SECRET, MSG_ID, VECTOR_TIMESTAMP, BODY),
            standard_signature(OLD_SECRET, MSG_ID, VECTOR_TIMESTAMP, BODY),
        ]
        assert items[0] != items[1]
        assert headers[GETBILL_SIGNATURE] == getbill_signature(NEW_SECRET, BODY)

    def test_during_a_rotation_each_secret_verifies_alone(self) -> None:
        headers = signed_headers([NEW_SECRET, OLD_SECRET], MSG_ID, VECTOR_TIMESTAMP, BODY)
        for secret in (NEW_SECRET, OLD_SECRET):
            verify(BODY, headers, secret, now=VECTOR_TIMESTAMP)
        third = "whsec_" + base64.b64encode(b"t" * 32).decode()
        assert "no v1 signature" in refusal(BODY, headers, third)

    def test_no_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one secret"):
            signed_headers([], MSG_ID, VECTOR_TIMESTAMP, BODY)

    @given(
        body=st.binary(max_size=2000),
        msg_id=st.text(st.characters(codec="ascii", exclude_characters="."), min_size=1).map(
            lambda text: "msg_" + text.strip()
        ),
        timestamp=st.integers(min_value=0, max_value=10**11),
        flipped=st.integers(min_value=0),
    )
    def test_any_request_verifies_and_no_altered_body_does(
        self, body: bytes, msg_id: str, timestamp: int, flipped: int
    ) -> None:
        headers = signed_headers([NEW_SECRET, OLD_SECRET], msg_id, timestamp, body)
        verify(body, headers, OLD_SECRET, now=timestamp)
        legacy = {GETBILL_SIGNATURE: headers[GETBILL_SIGNATURE]}
        verify(body, legacy, NEW_SECRET, now=timestamp)
        if body:
            altered = bytearray(body)
            altered[flipped % len(body)] ^= 1
            with pytest.raises(WebhookVerificationError):
                verify(bytes(altered), headers, NEW_SECRET, now=timestamp)
            with pytest.raises(WebhookVerificationError):
                verify(bytes(altered), legacy, NEW_SECRET, now=timestamp)


class TestVerify:
    def test_the_vector_verifies(self) -> None:
        verify(VECTOR_BODY, vector_headers(), VECTOR_SECRET, now=VECTOR_TIMESTAMP)
        verify(VECTOR_BODY.decode(), vector_headers(), VECTOR_SECRET, now=VECTOR_TIMESTAMP)

    def test_any_v1_item_may_match(self) -> None:
        # As in the reference library's test: other schemes' items and wrong ones around it.
        other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        listed = f"v1a,bm90IGEgc2lnbmF0dXJl {other} v2,{other[3:]} v1,!!! {VECTOR_SIGNATURE}"
        headers = vector_headers(**{"webhook-signature": listed})
        verify(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)

    def test_a_tampered_body_is_refused(self) -> None:
        message = refusal(b'{"test": 2432232315}', vector_headers(), VECTOR_SECRET)
        assert message == "no v1 signature in webhook-signature matches this body and secret"

    def test_a_wrong_secret_is_refused(self) -> None:
        assert "no v1 signature" in refusal(VECTOR_BODY, vector_headers(), NEW_SECRET)

    def test_a_tampered_id_or_timestamp_is_refused(self) -> None:
        for changed in ({"webhook-id": "msg_other"}, {"webhook-timestamp": "1614265331"}):
            message = refusal(VECTOR_BODY, vector_headers(**changed), VECTOR_SECRET)
            assert "no v1 signature" in message

    def test_a_signature_of_another_scheme_only_is_refused(self) -> None:
        headers = vector_headers(**{"webhook-signature": "v1a," + VECTOR_SIGNATURE[3:]})
        assert "no v1 signature" in refusal(VECTOR_BODY, headers, VECTOR_SECRET)

    def test_the_tolerance_holds_both_ways(self) -> None:
        for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
            verify(VECTOR_BODY, vector_headers(), VECTOR_SECRET, now=now)
        stale = refusal(VECTOR_BODY, vector_headers(), VECTOR_SECRET, now=VECTOR_TIMESTAMP + 301)
        assert stale == "webhook-timestamp is 301 s old, beyond the 300 s tolerated"
        future = refusal(VECTOR_BODY, vector_headers(), VECTOR_SECRET, now=VECTOR_TIMESTAMP - 301)
        assert future == "webhook-timestamp is 301 s in the future, beyond the 300 s tolerated"
        verify(
            VECTOR_BODY,
            vector_headers(),
            VECTOR_SECRET,
            tolerance_seconds=3600,
            now=VECTOR_TIMESTAMP + 3000,
        )

    def test_the_clock_is_the_default_now(self) -> None:
        # The vector's timestamp is years old: checked against the clock, it is stale.
        with pytest.raises(WebhookVerificationError, match="s old"):
            verify(VECTOR_BODY, vector_headers(), VECTOR_SECRET)
        moment = int(time.time())
        verify(BODY, signed_headers([NEW_SECRET], MSG_ID, moment, BODY), NEW_SECRET)

    @pytest.mark.parametrize("timestamp", ["hello", "1614265330.5", "-1614265330", "1e9", "٣٣"])
    def test_a_timestamp_that_is_not_unix_seconds_is_refused(self, timestamp: str) -> None:
        headers = vector_headers(**{"webhook-timestamp": timestamp})
        message = refusal(VECTOR_BODY, headers, VECTOR_SECRET)
        assert message == f"webhook-timestamp is not Unix seconds: {timestamp!r}"

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp"])
    def test_a_missing_header_is_named(self, missing: str) -> None:
        headers = vector_headers()
        del headers[missing]
        assert (
            refusal(VECTOR_BODY, headers, VECTOR_SECRET) == f"the request has no {missing} header"
        )
        headers[missing] = " "
        assert (
            refusal(VECTOR_BODY, headers, VECTOR_SECRET) == f"the request has no {missing} header"
        )

    def test_no_signature_header_at_all_is_refused(self) -> None:
        headers = vector_headers()
        del headers["webhook-signature"]
        message = refusal(VECTOR_BODY, headers, VECTOR_SECRET)
        assert message == "the request has no webhook-signature header (nor X-GetBill-Signature)"

    def test_without_standard_headers_the_getbill_signature_counts(self) -> None:
        headers = {GETBILL_SIGNATURE: getbill_signature(NEW_SECRET, BODY)}
        verify(BODY, headers, NEW_SECRET, now=0)
        assert refusal(BODY, headers, OLD_SECRET) == (
            "X-GetBill-Signature does not match this body and secret"
        )
        assert "does not match" in refusal(BODY + b"\n", headers, NEW_SECRET)
        assert "does not match" in refusal(BODY, {GETBILL_SIGNATURE: "é" * 64}, NEW_SECRET)

    def test_a_wrong_standard_signature_is_not_saved_by_a_right_getbill_one(self) -> None:
        # Otherwise a replayed request would pass by keeping its old GetBill signature.
        headers = signed_headers([NEW_SECRET], MSG_ID, VECTOR_TIMESTAMP, BODY)
        assert "s old" in refusal(BODY, headers, NEW_SECRET, now=VECTOR_TIMESTAMP + 3600)
        headers["webhook-signature"] = VECTOR_SIGNATURE
        assert "no v1 signature" in refusal(BODY, headers, NEW_SECRET)

    def test_header_names_are_matched_whatever_their_case(self) -> None:
        sent = signed_headers([NEW_SECRET], MSG_ID, VECTOR_TIMESTAMP, BODY)
        shouted = {name.upper(): value for name, value in sent.items()}
        held: list[HeaderItems] = [
            shouted,
            httpx.Headers(sent),
            StarletteHeaders(headers=sent),
            WerkzeugHeaders(list(sent.items())),
        ]
        for headers in held:
            verify(BODY, headers, NEW_SECRET, now=VECTOR_TIMESTAMP)
        getbill_only = {GETBILL_SIGNATURE.lower(): sent[GETBILL_SIGNATURE]}
        verify(BODY, httpx.Headers(getbill_only), NEW_SECRET, now=VECTOR_TIMESTAMP)

    def test_a_secret_that_is_not_a_webhook_secret_is_the_receivers_fault(self) -> None:
        # A plain ValueError, not a refusal of the request: the receiver's setting is wrong.
        with pytest.raises(ValueError, match="'whsec_' followed by base64") as raised:
            verify(VECTOR_BODY, vector_headers(), "whsec_?", now=VECTOR_TIMESTAMP)
        assert not isinstance(raised.value, WebhookVerificationError)


class Receiver(BaseHTTPRequestHandler):
    """An integrator's endpoint holding a secret: checks each request three ways, and answers
    what each said."""

    secret: ClassVar[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        checks = {
            "getbill": getbill_node_receiver_accepts(body, self.headers, self.secret),
            "standardwebhooks": reference_library_accepts(body, self.headers, self.secret),
            "relance": relance_accepts(body, self.headers, self.secret),
        }
        answer = json.dumps(checks).encode()
        self.send_response(200 if all(checks.values()) else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test's output is its assertions


StartReceiver = Callable[[str], str]


@pytest.fixture
def receiver() -> Iterator[StartReceiver]:
    """Starts a receiver on loopback holding the given secret: its URL."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(secret: str) -> str:
        class Holding(Receiver):
            pass

        Holding.secret = secret
        server = ThreadingHTTPServer(("127.0.0.1", 0), Holding)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/hooks/relance"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def post(url: str, secrets: list[str], body: bytes = BODY) -> httpx.Response:
    # The reference library checks against the clock, so the request is signed now.
    headers = signed_headers(secrets, MSG_ID, int(time.time()), body)
    return httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)


class TestOverHTTP:
    def test_all_three_receivers_accept_a_signed_request(self, receiver: StartReceiver) -> None:
        answer = post(receiver(NEW_SECRET), [NEW_SECRET])
        assert answer.json() == {"getbill": True, "standardwebhooks": True, "relance": True}
        assert answer.status_code == 200

    def test_during_a_rotation_receivers_on_either_secret_accept(
        self, receiver: StartReceiver
    ) -> None:
        # Rotating: NEW_SECRET is the endpoint's secret now, OLD_SECRET still signs too.
        answer = post(receiver(NEW_SECRET), [NEW_SECRET, OLD_SECRET])
        assert answer.json() == {"getbill": True, "standardwebhooks": True, "relance": True}
        # A receiver not yet moved to the new secret: the Standard Webhooks checks find the
        # old one's signature; GetBill's single header holds only the newest secret's.
        answer = post(receiver(OLD_SECRET), [NEW_SECRET, OLD_SECRET])
        assert answer.json() == {"getbill": False, "standardwebhooks": True, "relance": True}

    def test_all_three_refuse_another_secret(self, receiver: StartReceiver) -> None:
        answer = post(receiver(NEW_SECRET), [OLD_SECRET])
        assert answer.status_code == 401
        assert answer.json() == {"getbill": False, "standardwebhooks": False, "relance": False}

    def test_all_three_refuse_a_body_changed_on_the_way(self, receiver: StartReceiver) -> None:
        headers = signed_headers([NEW_SECRET], MSG_ID, int(time.time()), BODY)
        changed = BODY.replace(b"created", b"deleted")
        answer = httpx.post(receiver(NEW_SECRET), content=changed, headers=headers, timeout=TIMEOUT)
        assert answer.json() == {"getbill": False, "standardwebhooks": False, "relance": False}


def test_the_receivers_import_brings_no_server_package(tmp_path: Path) -> None:
    program = (
        "import json, sys\n"
        "from relance.webhooks import verify\n"
        "from relance.webhooks.signing import signed_headers\n"
        f"secret = {NEW_SECRET!r}\n"
        "verify(b'{}', signed_headers([secret], 'msg_1', 100, b'{}'), secret, now=100)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, report(done)
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "relance" in loaded
    assert loaded & SERVER_MODULES == set()
