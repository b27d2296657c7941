"""The overload of bench/overload.py in a short form: far past capacity for a few seconds, from
a client past its budget, then from one within it: every answer is a 200 or a refusal (429,
503), none is lost to a socket error; afterwards the normal load is served normally again and
the servers' memory has not grown. (Latency is measured by the benchmark, never asserted
here.)"""

from __future__ import annotations

from pathlib import Path

import httpx

from bench.overload import demo_server, overload

LIST = "/external-api/v1/followups"


def test_an_overload_is_refused_cleanly_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with demo_server(tmp_path, tmp_path / "serve.log") as (process, base, tokens):
        result = overload(f"{base}{LIST}?limit=50", tokens, process.pid, 64, 4)
        heavy = tokens[1]
        refused = httpx.get(f"{base}{LIST}", headers={"Authorization": f"Bearer {heavy}"})
        assert process.poll() is None

    over_budget = result.over_budget
    assert set(over_budget.statuses) <= {200, 429, 503}, over_budget.statuses
    assert over_budget.statuses.get(429, 0) > 0, "the overloading client's budget ran out"
    assert over_budget.statuses.get(200, 0) > 0
    assert over_budget.socket_errors == 0
    assert (refused.status_code, refused.json()["code"]) == (429, 429)
    assert int(refused.headers["retry-after"]) > 0
    # Within its budget, a client past the capacity waits its turn: nothing is refused or lost.
    assert set(result.over_capacity.statuses) == {200}, result.over_capacity.statuses
    assert result.over_capacity.socket_errors == 0

    for normal_run in (result.before, result.after_budget, result.after_capacity):
        assert set(normal_run.statuses) == {200}, normal_run.statuses
        assert normal_run.socket_errors == 0
    assert result.rss_after_mb <= result.rss_before_mb * 1.5 + 20, (
        result.rss_before_mb,
        result.rss_after_mb,
    )
