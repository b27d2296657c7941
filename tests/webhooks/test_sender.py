"""The webhook sender against real receivers on 127.0.0.1 (asyncio servers in the test's event
loop, each answering as its test needs): what counts as success, redirects not followed, 410,
Retry-After, the total deadline against hanging and trickling receivers, bodies far larger than
what is kept, connection and TLS failures, the SSRF refusals before any connection, and the
connection pinned to the address the check resolved (the OS resolver faked, never Relance)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relance.webhooks.sender import Attempt, Sender, retry_after_seconds
from tests.webhooks.test_addresses import PUBLIC_V4, FakeResolver, resolver

__all__ = ["resolver"]  # the fixture, shared with test_addresses

GUARD = 20  # seconds: a sender that never returns fails the test instead of hanging it
SIGNATURE = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "evt_1",
    "webhook-timestamp": "1796205600",
    "webhook-signature": SIGNATURE,
}
BODY = b'{"type":"followup.created","data":{"id":"fu_1"}}'


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Handler = Callable[["Receiver", Reader, Writer], Awaitable[None]]


@dataclass
class Receiver:
    handle: Handler
    port: int = 0
    host: str = "127.0.0.1"
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # What a handler that streams reports once the sender has hung up: the bytes it wrote.
    written: asyncio.Future[int] | None = None

    def url(self, scheme: str = "http", host: str | None = None) -> str:
        return f"{scheme}://{host or self.host}:{self.port}/hooks"

    async def _connected(self, reader: Reader, writer: Writer) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await self.handle(self, reader, writer)
        # The sender hung up, or the test is over (its receiver's handlers are cancelled).
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def receiving(
    handle: Handler, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Receiver]:
    receiver = Receiver(handle, host=host)
    server = await asyncio.start_server(receiver._connected, host, port, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for task in receiver.tasks:
            task.cancel()
        await asyncio.gather(*receiver.tasks, return_exceptions=True)


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    first, *lines = head.decode("latin-1").strip().split("\r\n")
    method, target, _version = first.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


def answering(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Handler:
    """A receiver answering every request alike, keeping the connection alive."""
    head = f"HTTP/1.1 {status} Whatever\r\ncontent-length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    answer = head.encode("latin-1") + b"\r\n" + body

    async def handle(receiver: Receiver, reader: Reader, writer: Writer) -> None:
        while (request := await read_request(reader)) is not None:
            receiver.requests.append(request)
            writer.write(answer)
            await writer.drain()

    return handle


async def never_answering(receiver: Receiver, reader: Reader, writer: Writer) -> None:
    request = await read_request(reader)
    assert request is not None
    receiver.requests.append(request)
    await asyncio.Event().wait()


def trickling(prefix: bytes) -> Handler:
    """Sends `prefix`, then one byte every 50 ms for as long as the sender listens: each read
    gets something long before any per-read timeout, so only a total deadline ends it."""

    async def handle(receiver: Receiver, reader: Reader, writer: Writer) -> None:
        await read_request(reader)
        writer.write(prefix)
        while True:
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"x")

    return handle


def streaming(head: bytes, chunk: bytes, total: int | None) -> Handler:
    """Answers `head`, then writes `chunk` until `total` bytes (None: forever) or until the
    sender hangs up; reports how many bytes it wrote."""

    async def handle(receiver: Receiver, reader: Reader, writer: Writer) -> None:
        await read_request(reader)
        assert receiver.written is not None
        writer.write(head)
        written = 0
        try:
            while total is None or written < total:
                writer.write(chunk)
                await writer.drain()
                written += len(chunk)
        except ConnectionError:
            pass
        receiver.written.set_result(written)

    return handle


async def send(sender: Sender, url: str, headers: dict[str, str] | None = None) -> Attempt:
    async with asyncio.timeout(GUARD):
        return await sender.send(url, HEADERS if headers is None else headers, BODY)


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    sender = Sender(allow_private=True)
    yield sender
    await sender.aclose()


@pytest.fixture
async def public_sender() -> AsyncIterator[Sender]:
    sender = Sender()
    yield sender
    await sender.aclose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class TestAnswers:
    async def test_a_2xx_succeeds_and_the_request_is_as_given(self, sender: Sender) -> None:
        async with receiving(answering(202, body=b'{"ok":true}')) as receiver:
            attempt = await send(sender, receiver.url())
        assert attempt == Attempt(202, attempt.duration_ms, '{"ok":true}', None, None)
        assert attempt.succeeded
        assert not attempt.gone
        [request] = receiver.requests
        assert (request.method, request.target, request.body) == ("POST", "/hooks", BODY)
        assert request.headers["webhook-signature"] == SIGNATURE
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == "Relance-Webhooks/1"
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        assert request.headers["content-length"] == str(len(BODY))

    async def test_the_callers_framing_headers_are_not_sent(self, sender: Sender) -> None:
        given = {**HEADERS, "Host": "elsewhere.example", "Content-Length": "1"}
        async with receiving(answering(204)) as receiver:
            attempt = await send(sender, receiver.url(host="localhost"), given)
        assert attempt.succeeded
        [request] = receiver.requests
        assert request.headers["host"] == f"localhost:{receiver.port}"
        assert request.body == BODY

    async def test_connections_are_kept_alive(self, sender: Sender) -> None:
        async with receiving(answering(204)) as receiver:
            attempts = [await send(sender, receiver.url()) for _ in range(3)]
            concurrent = await asyncio.gather(*(send(sender, receiver.url()) for _ in range(4)))
        assert all(attempt.succeeded for attempt in [*attempts, *concurrent])
        assert len(receiver.requests) == 7
        assert receiver.connections == 4  # the first reused, three more for four at once

    @pytest.mark.parametrize("status", [301, 302, 307, 308])
    async def test_a_redirect_is_not_followed(self, sender: Sender, status: int) -> None:
        async with receiving(answering(204)) as target:
            redirect = answering(status, {"location": target.url()}, b"moved")
            async with receiving(redirect) as receiver:
                attempt = await send(sender, receiver.url())
        assert attempt == Attempt(status, attempt.duration_ms, "moved", None, None)
        assert not attempt.succeeded
        assert len(receiver.requests) == 1
        assert target.connections == 0

    async def test_410_is_gone(self, sender: Sender) -> None:
        async with receiving(answering(410, body=b"endpoint removed")) as receiver:
            attempt = await send(sender, receiver.url())
        assert attempt.gone
        assert not attempt.succeeded
        assert (attempt.status_code, attempt.response, attempt.error) == (
            410,
            "endpoint removed",
            None,
        )

    @pytest.mark.parametrize("status", [400, 404, 500])
    async def test_other_statuses_fail_without_an_error_kind(
        self, sender: Sender, status: int
    ) -> None:
        async with receiving(answering(status, body=b"nope")) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error, attempt.succeeded, attempt.gone) == (
            status,
            None,
            False,
            False,
        )

    async def test_the_answer_is_decoded_leniently(self, sender: Sender) -> None:
        async with receiving(answering(200, body="réçu ".encode() + b"\xff")) as receiver:
            attempt = await send(sender, receiver.url())
        assert attempt.response == "réçu \ufffd"


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("status", "value", "expected"),
        [
            (429, "120", 120.0),
            (503, "0", 0.0),
            (500, " 7 ", 7.0),
            (429, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # past: now, never negative
            (503, "soon", None),
            (429, "-5", None),
            (429, "1.5", None),
        ],
    )
    async def test_parsed_on_429_and_5xx(
        self, sender: Sender, status: int, value: str, expected: float | None
    ) -> None:
        async with receiving(answering(status, {"retry-after": value})) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.retry_after) == (status, expected)

    @pytest.mark.parametrize("status", [200, 301, 404, 410])
    async def test_ignored_on_other_statuses(self, sender: Sender, status: int) -> None:
        async with receiving(answering(status, {"retry-after": "60"})) as receiver:
            attempt = await send(sender, receiver.url())
        assert attempt.retry_after is None

    async def test_absent(self, sender: Sender) -> None:
        async with receiving(answering(503)) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.retry_after) == (503, None)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("Sun, 06 Nov 1994 08:49:37 GMT", 37.0),  # IMF-fixdate
            ("Sunday, 06-Nov-94 08:49:37 GMT", 37.0),  # RFC 850
            ("Sun Nov  6 08:49:37 1994", 37.0),  # asctime
            ("Sun, 06 Nov 1994 08:48:00 GMT", 0.0),
            ("", None),
            ("٣", None),  # a digit, but not an ASCII one
        ],
    )
    def test_dates_in_every_http_form(self, value: str, expected: float | None) -> None:
        now = datetime.datetime(1994, 11, 6, 8, 49, tzinfo=datetime.UTC).timestamp()
        assert retry_after_seconds(value, now) == expected


class TestDeadline:
    async def test_a_receiver_that_never_answers(self) -> None:
        async with (
            Sender(timeout=0.5, allow_private=True) as sender,
            receiving(never_answering) as receiver,
        ):
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error, attempt.response) == (None, "timeout", "")
        assert len(receiver.requests) == 1

    async def test_a_receiver_that_never_reads(self) -> None:
        async def silent(receiver: Receiver, reader: Reader, writer: Writer) -> None:
            await asyncio.Event().wait()

        async with Sender(timeout=0.5, allow_private=True) as sender, receiving(silent) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (None, "timeout")

    async def test_trickled_headers_are_cut_at_the_total_deadline(self) -> None:
        sender = Sender(timeout=0.5, allow_private=True)
        async with sender, receiving(trickling(b"HTTP/1.1 200 OK\r\nx-slow: ")) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (None, "timeout")

    async def test_a_trickled_body_is_cut_and_the_status_kept(self) -> None:
        head = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n"
        sender = Sender(timeout=0.5, allow_private=True)
        async with sender, receiving(trickling(head)) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (200, "timeout")
        assert not attempt.succeeded
        assert set(attempt.response) <= {"x"}


class TestLargeAnswers:
    async def test_a_50_mb_body_is_not_read(self, sender: Sender) -> None:
        total = 50 * 1024 * 1024
        head = f"HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n".encode()
        async with receiving(streaming(head, b"y" * 65536, total)) as receiver:
            receiver.written = asyncio.get_running_loop().create_future()
            attempt = await send(sender, receiver.url())
            async with asyncio.timeout(GUARD):
                written = await receiver.written
        assert attempt.succeeded
        assert attempt.response == "y" * 1024
        # The sender hung up instead of reading on: the receiver could not write it all.
        assert written < total

    async def test_an_endless_chunked_body_ends_the_attempt_too(self, sender: Sender) -> None:
        head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b"z" * 0x10000 + b"\r\n"
        async with receiving(streaming(head, chunk, None)) as receiver:
            receiver.written = asyncio.get_running_loop().create_future()
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error, attempt.response) == (200, None, "z" * 1024)

    async def test_a_short_body_keeps_the_connection(self, sender: Sender) -> None:
        async with receiving(answering(200, body=b"k" * 1024)) as receiver:
            for _ in range(3):
                assert (await send(sender, receiver.url())).response == "k" * 1024
        assert receiver.connections == 1

    async def test_headers_beyond_the_clients_bound(self, sender: Sender) -> None:
        async with receiving(answering(200, {"x-big": "h" * 200_000})) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (None, "protocol")


class TestFailures:
    async def test_connection_refused(self, sender: Sender) -> None:
        attempt = await send(sender, f"http://127.0.0.1:{closed_port()}/hooks")
        assert attempt == Attempt(None, attempt.duration_ms, "", "connection", None)

    async def test_a_receiver_that_hangs_up(self, sender: Sender) -> None:
        async def hang_up(receiver: Receiver, reader: Reader, writer: Writer) -> None:
            await read_request(reader)

        async with receiving(hang_up) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (None, "protocol")

    async def test_an_answer_that_is_not_http(self, sender: Sender) -> None:
        async def garbage(receiver: Receiver, reader: Reader, writer: Writer) -> None:
            await read_request(reader)
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            await writer.drain()
            await asyncio.Event().wait()

        async with receiving(garbage) as receiver:
            attempt = await send(sender, receiver.url())
        assert (attempt.status_code, attempt.error) == (None, "protocol")

    async def test_an_unknown_host(self, sender: Sender, resolver: FakeResolver) -> None:
        resolver.answers["nowhere.example"] = [[]]
        attempt = await send(sender, "https://nowhere.example/hooks")
        assert (attempt.status_code, attempt.error) == (None, "host_not_found")

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/hooks",
            "https://user:secret@example.com/hooks",
            "https://example.com/hooks#x",
            "https://127.1/hooks",
            "not a url",
        ],
    )
    async def test_an_invalid_url(self, sender: Sender, public_sender: Sender, url: str) -> None:
        assert (await send(sender, url)).error == "invalid_url"
        assert (await send(public_sender, url)).error == "invalid_url"

    async def test_no_header_value_is_logged(
        self, sender: Sender, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        async with receiving(answering(500)) as receiver:
            await send(sender, receiver.url())
        await send(sender, f"http://127.0.0.1:{closed_port()}/hooks")
        assert SIGNATURE not in caplog.text
        assert "K5oZfzN95Z9UVu1" not in caplog.text


class TestTls:
    async def test_the_name_is_verified_on_the_pinned_connection(self, tmp_path: Path) -> None:
        server_context, client_context = tls_for_localhost(tmp_path)
        names: list[str | None] = []
        server_context.sni_callback = lambda _socket, name, _context: names.append(name)
        sender = Sender(allow_private=True, ssl_context=client_context)
        async with sender, receiving(answering(204), tls=server_context) as receiver:
            attempt = await send(sender, receiver.url("https", "localhost"))
        assert attempt.succeeded
        assert names == ["localhost"]
        assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"

    async def test_an_untrusted_certificate(self, tmp_path: Path) -> None:
        server_context, _client_context = tls_for_localhost(tmp_path)
        sender = Sender(allow_private=True)
        async with sender, receiving(answering(204), tls=server_context) as receiver:
            attempt = await send(sender, receiver.url("https", "localhost"))
        assert (attempt.status_code, attempt.error) == (None, "tls")
        assert receiver.requests == []

    async def test_tls_to_a_plain_http_receiver(self, sender: Sender) -> None:
        async def plain(receiver: Receiver, reader: Reader, writer: Writer) -> None:
            # What nginx answers to a TLS handshake on a plain HTTP port.
            await reader.read(1024)
            writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()

        async with receiving(plain) as receiver:
            attempt = await send(sender, receiver.url("https"))
        assert (attempt.status_code, attempt.error) == (None, "tls")


class TestPrivateNetworks:
    """Sender() refuses what is not public before connecting; the receivers count connections."""

    async def test_a_loopback_address(self, public_sender: Sender) -> None:
        async with receiving(answering(204)) as receiver:
            for url in (receiver.url("https"), receiver.url("http")):
                attempt = await send(public_sender, url)
                assert (attempt.status_code, attempt.error) == (None, "forbidden_address")
        assert receiver.connections == 0

    async def test_a_name_that_resolves_to_loopback(self, public_sender: Sender) -> None:
        async with receiving(answering(204)) as receiver:
            attempt = await send(public_sender, receiver.url("https", "localhost"))
        assert (attempt.status_code, attempt.error) == (None, "forbidden_address")
        assert receiver.connections == 0

    async def test_a_name_with_a_public_and_a_loopback_answer(
        self, public_sender: Sender, resolver: FakeResolver
    ) -> None:
        resolver.answers["mixed.example"] = [[PUBLIC_V4, "127.0.0.1"]]
        async with receiving(answering(204)) as receiver:
            attempt = await send(public_sender, receiver.url("https", "mixed.example"))
        assert attempt.error == "forbidden_address"
        assert receiver.connections == 0
        assert resolver.asked == ["mixed.example"]

    @pytest.mark.parametrize("host", ["[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "10.0.0.1"])
    async def test_private_addresses_in_any_form(self, public_sender: Sender, host: str) -> None:
        attempt = await send(public_sender, f"https://{host}/hooks")
        assert attempt.error == "forbidden_address"


class TestPinning:
    """The connection goes to the address resolve_public returned: the name is resolved once
    per new connection, and a resolver that changes its answer afterwards (DNS rebinding) is
    never asked again for that connection. Two receivers share one port, on 127.0.0.1 and on
    127.0.0.2; the faked name answers the first, then the second."""

    async def test_the_checked_address_is_the_one_connected(self, resolver: FakeResolver) -> None:
        resolver.answers["rebind.example"] = [["127.0.0.1"], ["127.0.0.2"]]
        async with receiving(answering(200, body=b"first")) as first:
            second_receiver = receiving(answering(200, body=b"second"), "127.0.0.2", first.port)
            async with second_receiver as second:
                url = first.url(host="rebind.example")
                async with Sender(allow_private=True) as sender:
                    answers = [(await send(sender, url)).response for _ in range(3)]
                    assert resolver.asked == ["rebind.example"]
                async with Sender(allow_private=True) as fresh:
                    again = (await send(fresh, url)).response
        assert answers == ["first"] * 3
        assert (first.connections, len(first.requests)) == (1, 3)
        # A new connection resolves afresh, and goes where that answer says.
        assert again == "second"
        assert resolver.asked == ["rebind.example"] * 2
        assert second.connections == 1
        assert first.requests[0].headers["host"] == f"rebind.example:{first.port}"

    async def test_every_answer_is_tried_in_order(
        self, resolver: FakeResolver, sender: Sender
    ) -> None:
        async with receiving(answering(204)) as receiver:
            resolver.answers["two.example"] = [["127.0.0.3", "127.0.0.1"]]
            # Nothing listens on 127.0.0.3 at that port: refused, then the next address.
            attempt = await send(sender, receiver.url(host="two.example"))
        assert attempt.succeeded
        assert receiver.connections == 1


def tls_for_localhost(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for `localhost`, and a client context
    that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))
