"""The attacks of bench/edge.py in a short form, on `relance serve` alone, with 2 workers and
a file limit of 1,024 descriptors a process: while one client streams a huge header and then
while a thousand and more hold half-sent requests, every probe of /healthz from another
client is answered, the attackers are refused (431) or cut (408), and the servers' memory
stays flat. (Latencies are measured by the benchmark, never asserted here.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.edge import SERVERS, big_header, during, server, slow_clients
from bench.overload import tree_rss_mb
from tests.commands import cli_env

SLOW_CLIENTS = 1200  # more than one worker's file limit
ATTACK_SECONDS = 4


@pytest.fixture
def relance_serve(tmp_path: Path) -> Iterator[tuple[int, int]]:
    env = cli_env(tmp_path, {"RELANCE_HEADER_TIMEOUT_SECONDS": "2", "RELANCE_ACCESS_LOG": "false"})
    with server(SERVERS["relance"], env) as (process, base):
        yield process.pid, int(base.rsplit(":", 1)[1])


def test_a_huge_header_neither_stalls_others_nor_grows_memory(
    relance_serve: tuple[int, int],
) -> None:
    pid, port = relance_serve
    before = tree_rss_mb(pid, "VmHWM")
    attack = during(port, lambda: big_header(port), ATTACK_SECONDS)
    assert str(attack["answer"]).startswith("HTTP/1.1 431"), attack
    assert float(str(attack["sent_mb"])) < 128
    healthz = attack["healthz"]
    assert isinstance(healthz, dict)
    assert healthz["failed"] == 0, attack
    assert healthz["answered"] > 0
    assert tree_rss_mb(pid, "VmHWM") < before + 32  # the peak, not what is left after


def test_slow_clients_are_cut_and_others_served(relance_serve: tuple[int, int]) -> None:
    pid, port = relance_serve
    before = tree_rss_mb(pid)
    attack = during(port, lambda: slow_clients(port, SLOW_CLIENTS, ATTACK_SECONDS), 0)
    healthz = attack["healthz"]
    assert isinstance(healthz, dict)
    assert healthz["failed"] == 0, attack
    assert healthz["answered"] > 0
    # Every connection the server took was cut by its head deadline (408), or refused at once
    # by a worker holding its cap (503) when the connections fell unevenly between the two.
    assert attack["cut"] == attack["connected"], attack
    answers = attack["answers"]
    assert isinstance(answers, dict)
    assert answers.get("HTTP/1.1 408 Request Timeout", 0) > 0, answers
    assert set(answers) <= {"HTTP/1.1 408 Request Timeout", "HTTP/1.1 503 Service Unavailable"}
    assert tree_rss_mb(pid) < before + 64
