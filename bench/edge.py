"""The HTTP edge under attack: Relance as `relance serve` runs it (uvicorn with Relance's own
protocol, relance/serving.py) beside the same app on the servers it could have used instead,
each with 2 workers and the usual file limit of 1,024 descriptors a process:

- uvicorn with its stock httptools protocol (what `relance serve` ran before), and with h11;
- uvicorn with Relance's protocol but none of `relance serve`'s own settings (what the protocol
  alone costs);
- hypercorn (h11, its defaults); granian (Rust), with its defaults and with a 10 s head deadline.

For each server it measures the list page's throughput (wrk, 8 connections, like bench/run.py),
then two attacks, each while a prober asks for /healthz on a fresh connection every 50 ms:

- a big header: one client streams a 128 MiB header as fast as it can;
- slow clients: N connections (default 1,500) each send a partial head, then one header line
  every 2 s (slowloris).

It prints, per server and attack, the prober's answers (failures, p50, p99, max), what the
attacker got, and the peak memory of the server's processes, summed.

    python bench/edge.py [--seconds S] [--slow-clients N] [--servers a,b,...] [--json] [--record]

The demo book (embedded SQLite) is loaded in a temporary directory. The test suite runs the
attacks on Relance alone in a short form (tests/load/test_edge_attacks.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.overload import tree_rss_mb  # noqa: E402
from bench.run import free_port, provenance, publish, wait_until_up, wrk  # noqa: E402

BIN = Path(sys.executable).parent
APP = "relance.app:create_app"
# The file limit most systems give a process unless told otherwise.
FILE_LIMIT = 1024
BIG_HEADER_BYTES = 128 * 1024 * 1024
PROBE_EVERY = 0.05
PROBE_TIMEOUT = 5.0
SERVERS: dict[str, Callable[[int], list[str]]] = {
    "relance": lambda port: [str(BIN / "relance"), "serve", "--workers", "2", "--port", str(port)],
    "uvicorn-httptools": lambda port: [
        *_uvicorn(port),
        "--http",
        "httptools",
    ],
    # The same protocol as `relance serve`, under plain uvicorn: what the protocol alone costs.
    "uvicorn-edge": lambda port: [*_uvicorn(port), "--http", "relance.serving:EdgeProtocol"],
    "uvicorn-h11": lambda port: [*_uvicorn(port), "--http", "h11"],
    "hypercorn": lambda port: [
        str(BIN / "hypercorn"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        f"{APP}()",
    ],
    "granian": lambda port: [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--workers",
        "2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        APP,
    ],
    # granian with a head deadline as short as Relance's (its default is 30 s).
    "granian-10s": lambda port: [
        *SERVERS["granian"](port)[:-1],
        "--http1-header-read-timeout",
        "10000",
        APP,
    ],
}

# `relance serve` gives each worker a listening socket of its own: the attacks start once both
# listen, or the first worker up would take them all. (The others share one socket.)
LISTENERS = {SERVERS["relance"]: 2}


def _uvicorn(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        APP,
        "--workers",
        "2",
        "--port",
        str(port),
    ]


@dataclass
class Probes:
    """The prober's view of /healthz during an attack."""

    answered: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {
            "answered": self.answered,
            "failed": self.failed,
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "max_ms": round(ordered[-1], 1),
        }


@dataclass
class Outcome:
    server: str
    list_rps: float = 0.0
    list_p99_ms: float = 0.0
    big_header: dict[str, object] = field(default_factory=dict)
    slow_clients: dict[str, object] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def main() -> None:
    args = parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the attacker's own sockets
    outcomes = []
    with tempfile.TemporaryDirectory() as home:
        env, token = demo_book(Path(home))
        for name in args.servers.split(","):
            outcomes.append(measure(name, env, token, args))
            print(json.dumps(asdict(outcomes[-1])), file=sys.stderr)
    report(args, outcomes)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="per attack")
    parser.add_argument("--slow-clients", type=int, default=1500)
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    return parser.parse_args()


def demo_book(home: Path) -> tuple[dict[str, str], str]:
    """The demo book in `home`, the servers' environment, and a client's credentials."""
    from tests.commands import cli_env, demo_on

    env = {"RELANCE_ACCESS_LOG": "false", "RELANCE_LOG_LEVEL": "warning"}
    companies = demo_on(home, env)
    first = companies[0]
    return cli_env(home, env), f"{first['client_id']}:{first['client_secret']}"


def measure(name: str, env: dict[str, str], credentials: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(name)
    with server(SERVERS[name], env) as (process, base):
        token = access_token(base, credentials)
        wrk(f"{base}/external-api/v1/followups?limit=50", token, 8, 1)  # warm up
        page = wrk(f"{base}/external-api/v1/followups?limit=50", token, 8, 5)
        outcome.list_rps, outcome.list_p99_ms = page["requests_per_second"], page["p99_ms"]
        port = int(base.rsplit(":", 1)[1])
        outcome.big_header = during(port, lambda: big_header(port), args.seconds)
        outcome.slow_clients = during(
            port, lambda: slow_clients(port, args.slow_clients, args.seconds), args.seconds
        )
        outcome.peak_rss_mb = tree_rss_mb(process.pid, "VmHWM")
    return outcome


@contextmanager
def server(
    command: Callable[[int], list[str]], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    log = (Path(env["RELANCE_DATA_DIR"]) / "server.log").open("ab")
    process = subprocess.Popen(
        command(port), env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_file_limit
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        wait_for_listeners(port, LISTENERS.get(command, 1))
        yield process, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for_listeners(port: int, count: int) -> None:
    """Until `count` sockets listen on `port` (Linux's /proc/net/tcp; state 0A is LISTEN)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
        local = [line.split()[1:4:2] for line in table]
        if (
            sum(1 for address, state in local if address.endswith(f":{port:04X}") and state == "0A")
            >= count
        ):
            return
        time.sleep(0.1)
    sys.exit(f"fewer than {count} sockets listen on port {port} after 60 s")


def _file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def access_token(base: str, credentials: str) -> str:
    import httpx

    client_id, secret = credentials.split(":", 1)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    answer = httpx.post(f"{base}/token", data=form, timeout=10)
    answer.raise_for_status()
    value: str = answer.json()["access_token"]
    return value


def during(port: int, attack: Callable[[], dict[str, object]], seconds: int) -> dict[str, object]:
    """Run `attack` while probing /healthz, for at least `seconds`; then its result and the
    prober's."""
    probes = Probes()
    stop = threading.Event()
    prober = threading.Thread(target=probe, args=(port, probes, stop))
    prober.start()
    started = time.monotonic()
    try:
        result = attack()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        stop.set()
        prober.join()
    return {**result, "healthz": probes.summary()}


def probe(port: int, probes: Probes, stop: threading.Event) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        began = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as conn:
                conn.sendall(request)
                answer = conn.recv(64)
            ok = answer.startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        if ok:
            probes.answered += 1
            probes.latencies_ms.append((time.monotonic() - began) * 1000)
        else:
            probes.failed += 1
        stop.wait(PROBE_EVERY)


def big_header(port: int) -> dict[str, object]:
    """Stream one 128 MiB header; what was sent before the server stopped it, and its answer."""
    began = time.monotonic()
    sent = 0
    answer = b""
    chunk = b"a" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        try:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < BIG_HEADER_BYTES:
                conn.sendall(chunk)
                sent += len(chunk)
            conn.sendall(b"\r\n\r\n")
        except OSError:
            pass
        with suppress(OSError):
            answer = conn.recv(64)
    status = answer.split(b"\r\n", 1)[0].decode("latin-1") or "(none)"
    return {
        "sent_mb": round(sent / 2**20, 1),
        "attacker_seconds": round(time.monotonic() - began, 2),
        "answer": status,
    }


def slow_clients(port: int, count: int, seconds: int) -> dict[str, object]:
    """`count` connections that each send a partial head, then a header line every 2 s, for
    `seconds`; how many could connect and how many the server cut."""
    conns: list[socket.socket] = []
    refused = 0
    for _ in range(count):
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=2)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            conns.append(conn)
        except OSError:
            refused += 1
    per_worker: list[int] = []
    cut: set[socket.socket] = set()
    answers: dict[str, int] = {}
    watch = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1,024
    for conn in conns:
        watch.register(conn, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not per_worker and time.monotonic() > deadline - seconds + 2:
            # Counted once the workers have accepted what the kernel queued for them.
            per_worker = connections_per_process(port)
        for key, _ in watch.select(timeout=2.0):
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            watch.unregister(ready)
            cut.add(ready)
            try:
                line = ready.recv(64).split(b"\r\n", 1)[0].decode("latin-1") or "(closed)"
            except OSError:
                line = "(reset)"
            answers[line] = answers.get(line, 0) + 1
        for conn in conns:
            if conn not in cut:
                try:
                    conn.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    cut.add(conn)
    watch.close()
    for conn in conns:
        conn.close()
    return {
        "connected": len(conns),
        "refused": refused,
        "per_worker": per_worker,
        "cut": len(cut),
        "answers": answers,
    }


def connections_per_process(port: int) -> list[int]:
    """How many connections to `port` each server process holds, most first (from `ss`): how
    evenly the kernel spread them between the workers."""
    listing = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, int] = {}
    for line in listing.splitlines():
        for pid in re.findall(r"pid=(\d+)", line)[:1]:
            counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def report(args: argparse.Namespace, outcomes: list[Outcome]) -> None:
    if args.json:
        print(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
        return
    publish(markdown(outcomes), args.record)


def markdown(outcomes: list[Outcome]) -> list[str]:
    lines = [
        "### HTTP edge under attack",
        "",
        provenance("edge.py"),
        "",
        "| server | list req/s | list p99 ms | big header: attacker | healthz during it"
        " (failed, p50/p99/max ms) | slow clients: connected (per worker), cut"
        " | healthz during them | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        big, slow = o.big_header, o.slow_clients
        lines.append(
            f"| {o.server} | {o.list_rps:,.0f} | {o.list_p99_ms:.1f} "
            f"| {big['answer']} after {big['sent_mb']} MB, {big['attacker_seconds']} s "
            f"| {_probes(big['healthz'])} "
            f"| {slow['connected']} ({_spread(slow['per_worker'])}), {slow['cut']} "
            f"({_answers(slow['answers'])}) "
            f"| {_probes(slow['healthz'])} | {o.peak_rss_mb:.0f} |"
        )
    return lines


def _probes(summary: object) -> str:
    s = summary if isinstance(summary, dict) else {}
    return (
        f"{s['failed']} of {s['answered'] + s['failed']}, {s['p50_ms']}/{s['p99_ms']}/{s['max_ms']}"
    )


def _spread(counts: object) -> str:
    return "+".join(str(n) for n in counts) if isinstance(counts, list) else "?"


def _answers(answers: object) -> str:
    counted = answers if isinstance(answers, dict) else {}
    return ", ".join(f"{n}× {line}" for line, n in sorted(counted.items())) or "none"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
