"""Every example the README shows and every request `relance demo` prints returns data on the
demo book, through a real `relance demo` and `relance serve`; and every stored recording the
book's followups point at lasts as long as their `duration_ms` says.

Keep EXAMPLES, and the SDK and CLI tests below, in step with README.md: the `curl` lines of
"The API", the OAuth client of "Authentication", the SDK loop of "Python client", the commands
of "Export", and the commands `relance demo` prints (DEMO_QUERY in src/relance/cli/main.py)."""

from __future__ import annotations

import csv
import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from relance.cli.main import DEMO_QUERY
from relance.client import Relance
from tests.commands import demo_on, ok_json, relance, report, serving, token_of

Demo = tuple[str, list[dict[str, Any]]]

API = "/external-api/v1"
EXAMPLES = {
    "README, The API: curl": f"{API}/followups?status=delivered&type=call&limit=50",
    "README, Authentication: OAuth client": f"{API}/followups?limit=50",
    # the curl line and the `relance followups list` line it prints ask for the same
    "relance demo: curl": f"{API}/followups?"
    + "&".join(f"{name}={value}" for name, value in DEMO_QUERY.items()),
}
COMPANY_NAMES = ["energy supplier", "clinic", "bakery"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("examples")
    companies = demo_on(home)
    with serving(home, home) as base:
        yield base, companies


def get(base: str, token: str, path: str) -> Any:
    answer = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
    return answer.json()


@pytest.mark.parametrize("company", range(3), ids=COMPANY_NAMES)
@pytest.mark.parametrize("example", EXAMPLES, ids=list(EXAMPLES))
def test_every_example_request_returns_rows(demo: Demo, example: str, company: int) -> None:
    base, companies = demo
    page = get(base, token_of(base, companies[company]), EXAMPLES[example])
    assert page["data"], f"{example} ({EXAMPLES[example]}) returns nothing: {page['pagination']}"
    filters = dict(part.split("=") for part in EXAMPLES[example].split("?")[1].split("&"))
    for row in page["data"]:
        assert all(row[key] == value for key, value in filters.items() if key != "limit"), row


def test_the_readme_sdk_loop_finds_unanswered_calls(demo: Demo) -> None:
    base, companies = demo
    company = companies[0]
    api = Relance(
        base_url=base, client_id=company["client_id"], client_secret=company["client_secret"]
    )
    with api as client:
        found = list(client.followups.list(status="no_answer", type="call"))
    assert len(found) > 20, f"{len(found)} unanswered calls"
    assert all(f.summary for f in found), [f for f in found if not f.summary][:3]


def followups_command(demo: Demo, tmp_path: Path, *args: str) -> Any:
    base, companies = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": companies[0]["client_id"],
        "RELANCE_CLIENT_SECRET": companies[0]["client_secret"],
    }
    return relance("followups", *args, data_dir=tmp_path, env=env)


def test_the_readme_cli_commands_return_rows(demo: Demo, tmp_path: Path) -> None:
    listed = followups_command(demo, tmp_path, "list", "--status", "no_answer", "--type", "call")
    assert listed.returncode == 0, report(listed)
    page = ok_json(
        followups_command(
            demo, tmp_path, "list", "--status", "no_answer", "--type", "call", "--json"
        )
    )
    assert page["data"], page["pagination"]
    assert f"{page['pagination']['total']} followups" in listed.stdout, listed.stdout
    one = ok_json(followups_command(demo, tmp_path, "get", page["data"][0]["id"]))
    assert one == page["data"][0]

    output = tmp_path / "calls.csv"
    export = ("export", "--format", "csv", "--output", str(output))
    exported = followups_command(
        demo, tmp_path, *export, "--type", "call", "--date-from", "2024-01-01"
    )
    assert exported.returncode == 0, report(exported)
    with output.open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert len(rows) > 100, f"{len(rows)} calls exported"
    assert {row["type"] for row in rows} == {"call"}


def every_followup(base: str, token: str) -> Iterator[dict[str, Any]]:
    page_number = 1
    while True:
        page = get(base, token, f"{API}/followups?limit=100&page={page_number}")
        yield from page["data"]
        if page_number >= page["pagination"]["pages"]:
            return
        page_number += 1


def wav_milliseconds(content: bytes) -> float:
    with wave.open(io.BytesIO(content)) as recording:
        frames: int = recording.getnframes()
        rate: int = recording.getframerate()
    return 1000 * frames / rate


@pytest.mark.parametrize("company", range(3), ids=COMPANY_NAMES)
def test_every_stored_recording_lasts_its_followups_duration(demo: Demo, company: int) -> None:
    base, companies = demo
    lengths: dict[str, float] = {}  # a stored file's length, by its media key
    recorded = 0
    for followup in every_followup(base, token_of(base, companies[company])):
        if followup["audio_url"] is None:
            continue
        recorded += 1
        key = urlsplit(followup["audio_url"]).path
        if key not in lengths:
            answer = httpx.get(followup["audio_url"], timeout=10)
            assert answer.status_code == 200, followup["audio_url"]
            lengths[key] = wav_milliseconds(answer.content)
        assert abs(followup["duration_ms"] - lengths[key]) <= 1000, (
            f"{followup['type']}/{followup['status']} {followup['id']}: duration_ms "
            f"{followup['duration_ms']} for a recording of {lengths[key]:.0f} ms"
        )
    assert recorded >= 20, f"only {recorded} recorded followups"
    assert len(lengths) > 1, "every recording has the same length"
