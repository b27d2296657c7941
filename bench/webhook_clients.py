"""Which HTTP client the webhook sender should use: each candidate POSTs a signed-looking 1 KiB
event to a loopback receiver, from P processes with N requests in flight each, spread over E
endpoints (as the delivery workers do, which keep at most 4 in flight to one endpoint), and
every candidate pins its connections to the address the SSRF check resolved
(relance.webhooks.addresses.resolve_public) while Host and TLS use the hostname:

- httpx-ip: httpx.AsyncClient, the URL rewritten to the resolved IP, `Host` set and the
  `sni_hostname` extension; the host is resolved for every request, since the URL needs it
  (and its pool is keyed by the IP: two hostnames on one IP would share TLS connections);
- httpx-backend: httpx.AsyncClient over an httpcore pool whose network backend resolves and
  checks the host when it opens a connection (the URL keeps the hostname, so does the pool);
- httpcore: that pool used directly, without httpx's request and response models;
- aiohttp: aiohttp.ClientSession whose connector's resolver is resolve_public (DNS cache off:
  every new connection is checked);
- sender: relance.webhooks.sender.Sender, the one chosen (httpcore, a small pool per
  endpoint), with everything it does per attempt.

    python bench/webhook_clients.py [--clients a,b] [--processes 2] [--concurrency 32]
        [--endpoints 8] [--seconds 5] [--tls] [--loop asyncio|uvloop]

Prints, per candidate, the deliveries per second of all processes together, the p50 and p99
latency, the clients' CPU per delivery, and the command that produced them. The receiver is a
minimal HTTP/1.1 server (raw asyncio protocol on uvloop, in a process of its own, one listening
port per endpoint) answering `204` with keep-alive; with --tls it serves a self-signed
certificate for `localhost`, which the clients trust. aiohttp is not one of Relance's
dependencies; the script skips it when it is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import ipaddress
import multiprocessing
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Protocol, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relance.webhooks.addresses import resolve_public  # noqa: E402

HOST = "localhost"
WARMUP_SECONDS = 1.0
BODY = (
    b'{"type":"followup.updated","timestamp":"2026-12-02T10:00:00.000000Z","data":{'
    + b'"id":"fu_0123456789abcdef","comment":"'
    + b"x" * 850
    + b'"}}'
)
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "msg_2Ltcs0Y0aaQbRLPGgQv5JxTqwXr",
    "webhook-timestamp": "1796205600",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    "user-agent": "Relance-Webhooks/1",
}


class Poster(Protocol):
    async def post(self, port: int) -> int: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    # One per endpoint: the receiver listens on each, and each is an origin of its own.
    ports: tuple[int, ...]
    cafile: str | None

    def url(self, port: int) -> str:
        return f"{self.scheme}://{HOST}:{port}/hooks/relance"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)


@dataclass(frozen=True, slots=True)
class Run:
    count: int
    latencies_ms: list[float]
    cpu_seconds: float
    failures: int


# --- the receiver -----------------------------------------------------------------------------


class Receiver(asyncio.Protocol):
    """Reads requests with a Content-Length body and answers each with a 204, keeping alive."""

    ANSWER = b"HTTP/1.1 204 No Content\r\nServer: bench\r\n\r\n"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, though they behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = _content_length(self.buffer[:end])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(self.ANSWER)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def receive(ports: tuple[int, ...], tls: tuple[str, str] | None) -> None:
    import uvloop

    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for port in ports:
            await loop.create_server(Receiver, "127.0.0.1", port, ssl=context, backlog=1024)
        await asyncio.Event().wait()

    uvloop.run(serve())


def self_signed(directory: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
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
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    Path(cert_path).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    Path(key_path).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --- the candidates ---------------------------------------------------------------------------


async def httpx_ip(target: Target, concurrency: int) -> Poster:
    import httpx

    client = httpx.AsyncClient(
        verify=target.ssl_context(),
        trust_env=False,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=10.0,
    )

    class IpPoster:
        async def post(self, port: int) -> int:
            address = (await resolve_public(HOST, port, allow_private=True))[0]
            response = await client.post(
                f"{target.scheme}://{address}:{port}/hooks/relance",
                content=BODY,
                headers={**HEADERS, "host": f"{HOST}:{port}"},
                extensions={"sni_hostname": HOST},
            )
            return response.status_code

        async def aclose(self) -> None:
            await client.aclose()

    return IpPoster()


def _pinned_pool(target: Target, concurrency: int) -> Any:
    import httpcore

    class PinnedBackend(httpcore.AsyncNetworkBackend):
        def __init__(self) -> None:
            self.inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            address = (await resolve_public(host, port, allow_private=True))[0]
            return await self.inner.connect_tcp(address, port, timeout, local_address)

        async def sleep(self, seconds: float) -> None:
            await self.inner.sleep(seconds)

    return httpcore.AsyncConnectionPool(
        ssl_context=target.ssl_context(),
        max_connections=concurrency,
        network_backend=PinnedBackend(),
    )


async def httpx_backend(target: Target, concurrency: int) -> Poster:
    import httpx

    transport = httpx.AsyncHTTPTransport()
    # httpx takes no network backend: its transport's pool is replaced (a bench-only shortcut).
    transport._pool = _pinned_pool(target, concurrency)
    client = httpx.AsyncClient(transport=transport, trust_env=False, timeout=10.0)

    class BackendPoster:
        async def post(self, port: int) -> int:
            response = await client.post(target.url(port), content=BODY, headers=HEADERS)
            return response.status_code

        async def aclose(self) -> None:
            await client.aclose()

    return BackendPoster()


async def httpcore_pool(target: Target, concurrency: int) -> Poster:
    pool = _pinned_pool(target, concurrency)
    headers = list(HEADERS.items())

    class CorePoster:
        async def post(self, port: int) -> int:
            url = target.url(port)
            async with pool.stream("POST", url, headers=headers, content=BODY) as response:
                async for _chunk in response.aiter_stream():
                    pass
                status: int = response.status
                return status

        async def aclose(self) -> None:
            await pool.aclose()

    return CorePoster()


async def aiohttp_session(target: Target, concurrency: int) -> Poster:
    # Imported by name: aiohttp is installed only for the measurement, and mypy checks this
    # script with it absent as well as present.
    aiohttp: Any = importlib.import_module("aiohttp")

    class PinnedResolver:
        """aiohttp.abc.AbstractResolver's interface (the connector only calls it)."""

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[dict[str, Any]]:
            addresses = await resolve_public(host, port, allow_private=True)
            return [
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
                for address in addresses
            ]

        async def close(self) -> None:
            pass

    connector = aiohttp.TCPConnector(
        resolver=PinnedResolver(), use_dns_cache=False, limit=concurrency, ssl=target.ssl_context()
    )
    session = aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    )

    class AiohttpPoster:
        async def post(self, port: int) -> int:
            async with session.post(
                target.url(port), data=BODY, headers=HEADERS, allow_redirects=False
            ) as response:
                await response.content.read(1024)
                return int(response.status)

        async def aclose(self) -> None:
            await session.close()

    return AiohttpPoster()


async def relance_sender(target: Target, concurrency: int) -> Poster:
    from relance.webhooks.sender import Sender

    sender = Sender(allow_private=True, ssl_context=target.ssl_context())

    class SenderPoster:
        async def post(self, port: int) -> int:
            attempt = await sender.send(target.url(port), HEADERS, BODY)
            return attempt.status_code or 0

        async def aclose(self) -> None:
            await sender.aclose()

    return SenderPoster()


CANDIDATES: dict[str, Callable[[Target, int], Awaitable[Poster]]] = {
    "httpx-ip": httpx_ip,
    "httpx-backend": httpx_backend,
    "httpcore": httpcore_pool,
    "aiohttp": aiohttp_session,
    "sender": relance_sender,
}


# --- the driver -------------------------------------------------------------------------------


async def drive(name: str, target: Target, concurrency: int, seconds: float) -> Run:
    poster = await CANDIDATES[name](target, concurrency)
    loop = asyncio.get_running_loop()
    start = loop.time() + WARMUP_SECONDS
    stop = start + seconds
    latencies: list[float] = []
    failures = 0

    async def worker(number: int) -> None:
        nonlocal failures
        port = target.ports[number % len(target.ports)]
        while (began := loop.time()) < stop:
            try:
                status = await poster.post(port)
            except Exception:
                # One failed request is a failure in the table, not the end of the run.
                status = 0
            if began >= start:
                latencies.append((loop.time() - began) * 1000)
                failures += not 200 <= status < 300

    await asyncio.sleep(0)
    cpu_before: float | None = None

    async def measure_cpu() -> None:
        nonlocal cpu_before
        await asyncio.sleep(max(0.0, start - loop.time()))
        cpu_before = time.process_time()

    await asyncio.gather(measure_cpu(), *(worker(number) for number in range(concurrency)))
    cpu = time.process_time() - (cpu_before or 0.0)
    await poster.aclose()
    return Run(len(latencies), latencies, cpu, failures)


def client_process(
    name: str, target: Target, args: argparse.Namespace, results: Queue[Run]
) -> None:
    coroutine = drive(name, target, args.concurrency, args.seconds)
    if args.loop == "uvloop":
        import uvloop

        results.put(uvloop.run(coroutine))
    else:
        results.put(asyncio.run(coroutine))


def measure(name: str, target: Target, args: argparse.Namespace) -> list[Run]:
    context = multiprocessing.get_context("spawn")
    results: Queue[Run] = context.Queue()
    processes = [
        context.Process(target=client_process, args=(name, target, args, results))
        for _ in range(args.processes)
    ]
    for process in processes:
        process.start()
    runs = [results.get(timeout=args.seconds + 60) for _ in processes]
    for process in processes:
        process.join()
    return runs


def row(name: str, runs: list[Run], seconds: float) -> str:
    latencies = sorted(value for run in runs for value in run.latencies_ms)
    count = sum(run.count for run in runs)
    cpu_us = sum(run.cpu_seconds for run in runs) / max(count, 1) * 1e6
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99)]
    failures = sum(run.failures for run in runs)
    return (
        f"| {name} | {count / seconds:,.0f} | {p50:.1f} | {p99:.1f} | {cpu_us:,.0f} | {failures} |"
    )


def available(name: str) -> bool:
    try:
        if name == "aiohttp":
            importlib.import_module("aiohttp")
        if name == "sender":
            import relance.webhooks.sender  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("the receiver did not start")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default=",".join(CANDIDATES))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight each")
    parser.add_argument(
        "--endpoints", type=int, default=8, help="receiving ports the requests are spread over"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tls", action="store_true", help="https with a self-signed cert")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    command = "python bench/webhook_clients.py " + " ".join(sys.argv[1:])
    print(f"`{command.strip()}`, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs\n")
    print("| client | deliveries/s | p50 ms | p99 ms | client CPU µs/delivery | failures |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        tls = self_signed(directory) if args.tls else None
        ports = tuple(free_port() for _ in range(args.endpoints))
        context = multiprocessing.get_context("spawn")
        receiver = context.Process(target=receive, args=(ports, tls), daemon=True)
        receiver.start()
        try:
            for port in ports:
                wait_for(port)
            target = Target("https" if tls else "http", ports, tls[0] if tls else None)
            for name in args.clients.split(","):
                if not available(name):
                    print(f"| {name} | not installed | | | | |")
                    continue
                print(row(name, measure(name, target, args), args.seconds), flush=True)
        finally:
            receiver.terminate()
            receiver.join()


if __name__ == "__main__":
    main()
