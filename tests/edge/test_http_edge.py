"""The HTTP edge of `relance serve`, before any request reaches the app: heads are bounded as
they arrive, slow clients are cut, connections are capped, and refusals are the error envelope
that every common client can read."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from tests.commands import served, serving

# Short deadlines, so that the slow-client cases take a second, not the default ten.
EDGE = {
    "RELANCE_HEADER_TIMEOUT_SECONDS": "1",
    "RELANCE_MAX_HEADER_BYTES": "4096",
    "RELANCE_MAX_HEADERS": "20",
    "RELANCE_MAX_CONNECTIONS_PER_WORKER": "30",
}
TOKEN = "/token"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    home = tmp_path_factory.mktemp("edge")
    with served(home, EDGE, home / "serve.log") as (process, url):
        yield process.pid, url


@pytest.fixture
def base(server: tuple[int, str]) -> str:
    return server[1]


def peak_memory_kib(pid: int) -> int:
    """The process's peak resident memory (VmHWM), which no later freeing lowers."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def exchange(base: str, data: bytes, pause_after: float = 0) -> tuple[bytes, dict[str, str], Any]:
    """Send `data` on a fresh connection, then read the whole answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as conn:
        conn.sendall(data)
        if pause_after:
            time.sleep(pause_after)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return parse(answer)


def parse(answer: bytes) -> tuple[bytes, dict[str, str], Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status.encode(), headers, httpx.Response(200, content=body).json()


def assert_refusal(answer: tuple[bytes, dict[str, str], Any], status: int, *words: str) -> None:
    line, headers, body = answer
    assert line.startswith(f"HTTP/1.1 {status} ".encode()), line
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    # The same security headers as every answer of the app.
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert body["error"] is True
    assert body["code"] == status
    for word in words:
        assert word in body["message"], body


def test_a_header_block_over_the_limit_is_431(base: str) -> None:
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n"
    assert_refusal(exchange(base, big), 431, "4096 bytes", "20 header lines")


def test_too_many_header_lines_is_431(base: str) -> None:
    lines = b"".join(b"X-%d: 1\r\n" % n for n in range(25))
    assert_refusal(exchange(base, b"GET /healthz HTTP/1.1\r\n" + lines + b"\r\n"), 431)


def test_a_request_line_over_the_limit_is_414(base: str) -> None:
    long = b"GET /healthz?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_refusal(exchange(base, long), 414, "request line", "4096 bytes")


def test_a_head_within_the_limits_is_served(base: str) -> None:
    headers = {f"X-{n}": "v" * 100 for n in range(15)}
    assert httpx.get(f"{base}/healthz", headers=headers).status_code == 200


def test_a_body_that_comes_with_its_head_is_not_counted_as_head(base: str) -> None:
    """A request read whole in one piece, its body far over the head's limit, reaches the app
    (which refuses the unknown client: it read the request)."""
    body = b"grant_type=client_credentials&client_id=rlc_nobody&client_secret=" + b"x" * 20_000
    head = b"POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
    head += FORM.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    line, _, answer = exchange(base, head + body)
    assert line.startswith(b"HTTP/1.1 401"), line
    assert answer["error"] == "invalid_client"


def test_pipelined_requests_are_each_held_to_the_limit_alone(base: str) -> None:
    """Three requests sent in one piece, 7.5 KiB together, each well within the 4 KiB limit."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 2500 + b"\r\n\r\n"
    last = request.replace(b"Host: x", b"Host: x\r\nConnection: close")
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as conn:
        conn.sendall(request * 2 + last)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK") == 3, answer[:200]
    assert b"431" not in answer


def test_a_content_length_of_thousands_of_digits_is_a_400(base: str) -> None:
    head = b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
    head += b"\r\nContent-Length: " + b"9" * 3000 + b"\r\n\r\ngrant_type="
    assert_refusal(exchange(base, head), 400, "could not be parsed")


def test_a_huge_header_is_refused_without_being_buffered(server: tuple[int, str]) -> None:
    """128 MiB of one header: the server refuses it at its limit and discards the rest (up to
    what a lingering close reads), instead of buffering it: its peak memory barely moves."""
    pid, base = server
    before = peak_memory_kib(pid)
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = send_until_cut(conn, 128 * 1024 * 1024)
    assert sent < 128 * 1024 * 1024
    assert peak_memory_kib(pid) - before < 16 * 1024
    assert httpx.get(f"{base}/healthz").status_code == 200


def send_until_cut(conn: socket.socket, size: int) -> int:
    """Bytes of `size` sent before the server stopped reading and closed (a reset)."""
    sent = 0
    chunk = b"a" * 65536
    try:
        while sent < size:
            conn.sendall(chunk)
            sent += len(chunk)
    except (ConnectionResetError, BrokenPipeError):
        return sent
    return sent


def test_a_head_sent_too_slowly_is_408(base: str) -> None:
    partial = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    assert_refusal(exchange(base, partial), 408, "request head", "1 s")


def test_a_connection_that_sends_nothing_is_closed(base: str) -> None:
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as conn:
        assert conn.recv(1) == b""  # closed by the server, without an answer


def test_a_body_sent_too_slowly_is_408(base: str) -> None:
    head = b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
    head += b"\r\nContent-Length: 5000\r\n\r\ngrant_type="
    assert_refusal(exchange(base, head), 408, "too slowly", "1024 bytes/s")


def test_a_body_at_a_fair_rate_is_read(base: str) -> None:
    """A body that comes in pieces, each in time, is read whole (here: refused for its content,
    which shows the app got it)."""
    body = b"grant_type=client_credentials&client_id=rlc_nobody&client_secret=x"
    head = b"POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
    head += FORM.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as conn:
        conn.sendall(head + body[:10])
        time.sleep(0.6)
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    line, _, body_json = parse(answer)
    assert line.startswith(b"HTTP/1.1 401"), answer
    assert body_json["error"] == "invalid_client"


@pytest.mark.parametrize("size_mib", [1, 8, 48])
def test_a_body_over_the_limit_is_a_413_that_every_client_reads(base: str, size_mib: int) -> None:
    body = b'{"notes": "' + b"x" * (size_mib * 1024 * 1024) + b'"}'
    url = f"{base}/external-api/v1/followups"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer x"}

    answer = requests.post(url, data=body, headers=headers, timeout=30)
    assert (answer.status_code, answer.json()["code"]) == (413, 413)
    closing = requests.post(url, data=body, headers={**headers, "Connection": "close"}, timeout=30)
    assert closing.status_code == 413

    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    assert refused.value.code == 413
    assert b"at most 262144 bytes" in refused.value.read()

    conn = http.client.HTTPConnection("127.0.0.1", port_of(base), timeout=30)
    conn.request("POST", "/external-api/v1/followups", body=body, headers=headers)
    assert conn.getresponse().status == 413
    conn.close()


def test_curl_reads_the_413_too(base: str, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"notes": "' + b"x" * (8 * 1024 * 1024) + b'"}')
    curl = shutil.which("curl")
    assert curl is not None, "curl is missing: apt-get install -y curl (.ci/run does)"
    headers = ["-H", "Content-Type: application/json", "-H", "Authorization: Bearer x"]
    answer = subprocess.run(  # noqa: S603 - fixed arguments
        [
            curl,
            "-s",
            "-w",
            "\n%{http_code}",
            *headers,
            "--data-binary",
            f"@{body}",
            f"{base}/external-api/v1/followups",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    document, _, status = answer.rpartition(b"\n")
    assert status == b"413"
    assert b"at most 262144 bytes" in document


def test_an_unread_chunked_body_still_lets_the_client_read_the_answer(base: str) -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 65536

    answer = requests.post(
        f"{base}/external-api/v1/followups",
        data=pieces(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
        timeout=30,
    )
    # The token is checked before the body: the body is never read, and the answer still lands.
    assert answer.status_code == 401
    assert answer.json()["code"] == 401


def test_connections_beyond_the_cap_are_refused_with_503(base: str) -> None:
    port = port_of(base)
    with ExitStack() as held:
        # The module's other connections are closed; these fill the cap of 30.
        for _ in range(30):
            held.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
        line, headers, body = exchange(base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert line.startswith(b"HTTP/1.1 503"), line
        assert headers["retry-after"] == "1"
        assert "too many connections" in body["message"]
    # The held ones are gone: the server takes new connections again.
    for _ in range(50):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_a_websocket_upgrade_is_refused_as_malformed(base: str) -> None:
    upgrade = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    assert_refusal(exchange(base, upgrade), 400, "Malformed")


def test_limits_are_settings(tmp_path: Path) -> None:
    """The default head limit (16 KiB) takes the 5,000-byte header the module's server refused."""
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
    big += b"a" * 5000 + b"\r\n\r\n"
    with serving(tmp_path, tmp_path) as default_base:
        line, _, body = exchange(default_base, big)
    assert line.startswith(b"HTTP/1.1 200"), line
    assert body == {"status": "ok"}


def test_refusals_are_counted_in_the_metrics(base: str) -> None:
    def refused_431() -> float:
        for line in httpx.get(f"{base}/metrics").text.splitlines():
            if line.startswith('relance_http_edge_refusals_total{status="431"}'):
                return float(line.split()[-1])
        return 0.0

    before = refused_431()
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n"
    assert_refusal(exchange(base, big), 431)
    assert refused_431() == before + 1
