"""Overload: Relance driven far past its capacity for a bounded time, then at a normal load
again. Every answer under overload must be a 200, or a 429/503 in the envelope; latency must
come back; the servers' memory must not grow.

    python bench/overload.py [--seconds S] [--connections N] [--record]

Serves the demo book (embedded SQLite, `relance serve --workers 2`, in a temporary directory),
measures its capacity at 16 connections, which the two workers already saturate, then drives it
twice with N connections (default 64: 4 times that concurrency) for S seconds, measuring the
normal load again after each: first from a client whose own budget runs out (the answers turn
to 429s), then from a client well within its budget (every request is served, each waits its
turn). wrk keeps N requests in flight, so the load offered is far beyond twice the capacity as
long as the unloaded latency holds. Each phase also shows the share of the machine's CPU time
the hypervisor took (`steal`, from /proc/stat). The test suite runs the same in a short form
(tests/load/test_overload.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Counts answers by status in every wrk thread, and prints the sums when wrk is done.
STATUS_COUNTER = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %d %d\\n", status, n)) end
end
"""
# The workers share one listening socket and each connection stays with the worker that took
# it: with 4 connections, all 4 land on one worker one time in 8 (more often right after an
# overload, while the other is still busy), which then serves at a third of the rate while
# the other idles. At 16 that takes 1 time in 32,768.
NORMAL_CONNECTIONS = 16
Tokens = tuple[str, str]  # a normal client's, then the overloading client's
# Reads per client, worker and window: more than a normal load spends. The overloading client
# gets a budget of its own that it does spend, so that refusals are part of the overload.
READS = 1_000_000
HEAVY_READS = 1000


@dataclass(frozen=True)
class Drive:
    connections: int
    seconds: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: int
    steal_percent: float


@dataclass(frozen=True)
class Overload:
    before: Drive
    over_budget: Drive
    after_budget: Drive
    over_capacity: Drive
    after_capacity: Drive
    rss_before_mb: float
    rss_after_mb: float

    def phases(self) -> list[tuple[str, Drive]]:
        return [
            ("before", self.before),
            ("overload, over budget", self.over_budget),
            ("after", self.after_budget),
            ("overload, within budget", self.over_capacity),
            ("after", self.after_capacity),
        ]


def drive(url: str, token: str, connections: int, seconds: int, script: Path) -> Drive:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}", "-s", str(script), url]
    cpu_before = cpu_times()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_after = cpu_times()
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    spent = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
    return Drive(
        connections,
        seconds,
        float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        _ms(_find(r"\s50%\s+([\d.]+\w+)", output)),
        _ms(_find(r"\s99%\s+([\d.]+\w+)", output)),
        statuses,
        errors,
        100 * spent[_STEAL] / max(1, sum(spent)),
    )


_STEAL = 7  # user nice system idle iowait irq softirq steal, in /proc/stat's order


def cpu_times() -> list[int]:
    """The machine's CPU time so far, by kind, in clock ticks."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    return [int(ticks) for ticks in first[1 : _STEAL + 2]]


def overload(url: str, tokens: Tokens, server_pid: int, connections: int, seconds: int) -> Overload:
    """Normal load, then each overload followed by the normal load again, with the servers'
    memory around it all. The first overload comes from the second token's client, whose
    budget it spends; the normal load, and the second overload, from the first's."""
    normal, heavy = tokens
    calm = max(2, seconds // 2)
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "statuses.lua"
        script.write_text(STATUS_COUNTER)
        drive(url, normal, NORMAL_CONNECTIONS, 1, script)  # warm: pools and caches filled
        before = drive(url, normal, NORMAL_CONNECTIONS, calm, script)
        rss_before = tree_rss_mb(server_pid)
        over_budget = drive(url, heavy, connections, seconds, script)
        after_budget = drive(url, normal, NORMAL_CONNECTIONS, calm, script)
        over_capacity = drive(url, normal, connections, seconds, script)
        after_capacity = drive(url, normal, NORMAL_CONNECTIONS, calm, script)
        rss_after = tree_rss_mb(server_pid)
    return Overload(
        before, over_budget, after_budget, over_capacity, after_capacity, rss_before, rss_after
    )


@contextlib.contextmanager
def demo_server(home: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Tokens]]:
    """`relance serve --workers 2` on the demo book in `home`; yields the process, its base URL
    and the tokens of a normal client and of one whose own budget an overload spends."""
    from tests.commands import demo_on, relance, served, token_of

    env = {"RELANCE_RATE_LIMIT_READS": str(READS), "RELANCE_RATE_LIMIT_WINDOW_SECONDS": "600"}
    companies = demo_on(home, env)
    heavy = companies[1]["client_id"]
    limited = relance(
        "clients", "set-limits", heavy, "--read-limit", str(HEAVY_READS), data_dir=home, env=env
    )
    if limited.returncode != 0:
        raise RuntimeError(f"relance clients set-limits failed: {limited.stderr}")
    with served(home, env, log, workers=2) as (process, base):
        yield process, base, (token_of(base, companies[0]), token_of(base, companies[1]))


def tree_rss_mb(pid: int, measure: str = "VmRSS") -> float:
    """Resident memory of a process and all its descendants (the serve process and workers);
    `measure="VmHWM"` sums their peaks instead."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {pid}, True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    total_kb = 0
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        match = re.search(rf"^{measure}:\s+(\d+) kB", status, re.M)
        total_kb += int(match.group(1)) if match else 0
    return total_kb / 1024


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {text}")
    return match.group(1)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def table(result: Overload) -> list[str]:
    lines = [
        "| phase | conns | seconds | req/s | p50 ms | p99 ms | answers by status | socket errors"
        " | steal % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in result.phases():
        shown = ", ".join(f"{s}: {n:,}" for s, n in sorted(run.statuses.items()))
        lines.append(
            f"| {name} | {run.connections} | {run.seconds} | {run.requests_per_second:,.0f} |"
            f" {run.p50_ms:.2f} | {run.p99_ms:.2f} | {shown} | {run.socket_errors} |"
            f" {run.steal_percent:.1f} |"
        )
    lines.append("")
    lines.append(
        f"Memory of the server processes: {result.rss_before_mb:.0f} MB before the overload,"
        f" {result.rss_after_mb:.0f} MB after."
    )
    return lines


def main() -> None:
    from bench.run import provenance, publish

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    parser.add_argument(
        "--log",
        type=Path,
        default=Path(os.devnull),
        help="where the servers' log goes (default: nowhere, as to a log shipper's pipe; a file"
        " on this machine's disk slows the phase after the overload while the kernel writes the"
        " overload's lines out)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, demo_server(Path(home), args.log) as served:
        process, base, tokens = served
        url = f"{base}/external-api/v1/followups?limit=50"
        result = overload(url, tokens, process.pid, args.connections, args.seconds)
    header = [
        "### Overload: embedded SQLite, demo book, 2 workers",
        "",
        provenance("overload.py") + ".",
        "",
    ]
    publish(header + table(result), args.record)


if __name__ == "__main__":
    main()
