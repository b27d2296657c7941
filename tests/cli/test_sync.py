"""`relance followups sync` as a real command against a real `relance serve` on SQLite and on
PostgreSQL (the demo book and 20,000 more followups), into a SQLite file, a PostgreSQL database
and a JSON Lines file: an exact mirror (every followup as GET /followups lists it) after the
first run's export and after creates, updates and a debt's deletion between runs; SIGKILLed at
random points of a large export and of the feed's application, then run again, still exact
(and, in JSON Lines, no change written twice); --follow picking a change up and stopping on
Ctrl+C with its cursor stored; --with-media files by their hash; a 410 starting again from an
export; targets that are not mirrors refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relance.client import Relance
from tests.cli.mirrors import (
    api_followups,
    columns_of,
    feed_seqs,
    indexes_of,
    media_of,
    mirror_of,
    stored_cursor,
)
from tests.cli.test_lazy_imports import LOADED_AFTER, SERVER_PACKAGES
from tests.commands import COMMAND, cli_env, demo_on, ok_json, relance, report, served
from tests.postgres import scratch_database

BULK = 6_000  # followups imported beside the demo book: an export long enough to be cut
KILLS = 3  # SIGKILLs per phase (export, feed), at random moments
WAIT = 30  # seconds a followed change may take to reach the mirror before the test fails


@dataclass
class Server:
    base: str
    home: Path
    env: dict[str, str]
    company: dict[str, Any]
    bulk_debts: list[str] = field(default_factory=list)

    def client(self) -> Relance:
        return Relance(self.base, self.company["client_id"], self.company["client_secret"])

    def credentials(self) -> dict[str, str]:
        return {
            "RELANCE_BASE_URL": self.base,
            "RELANCE_CLIENT_ID": self.company["client_id"],
            "RELANCE_CLIENT_SECRET": self.company["client_secret"],
        }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("sync-server")
    with ExitStack() as stack:
        env = {"RELANCE_RATE_LIMIT_ENABLED": "false"}
        if request.param == "postgresql":
            env["RELANCE_DATABASE_URL"] = stack.enter_context(scratch_database("relance_sync_api"))
        company = demo_on(home, env)[0]
        _, base = stack.enter_context(served(home, env, home / "serve.log"))
        found = Server(base, home, env, company)
        bulk_import(found, "v1")
        yield found


def bulk_import(server: Server, version: str) -> None:
    """BULK followups by external ID: the first import creates them, the next ones update each
    (on the same debts: an imported followup keeps its debt)."""
    if not server.bulk_debts:
        with server.client() as client:
            server.bulk_debts = [debt.id for debt in client.debts.list(limit=100).data]
    debts = server.bulk_debts
    rows = server.home / f"bulk-{version}.jsonl"
    with rows.open("w") as out:
        for number in range(BULK):
            row = {"external_id": f"bulk-{number}", "debt_id": debts[number % len(debts)],
                   "type": "email", "status": "delivered", "summary": f"bulk {number} {version}",
                   "call_date": "2026-11-02T10:00:00Z"}  # fmt: skip
            out.write(json.dumps(row) + "\n")
    args = ("import", "followups", str(rows), "--company", server.company["id"], "--json")
    done = ok_json(relance(*args, data_dir=server.home, env=server.env, timeout=600))
    assert not done["errors"], done


@pytest.fixture(params=["sqlite", "postgresql", "jsonl"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        with scratch_database("relance_mirror") as url:
            yield url
    else:
        yield str(tmp_path / f"mirror.{'jsonl' if request.param == 'jsonl' else 'sqlite'}")


def sync(
    server: Server, tmp_path: Path, target: str, *options: str
) -> subprocess.CompletedProcess[str]:
    return relance(
        "followups", "sync", "--into", target, *options, data_dir=tmp_path,
        env=server.credentials(), timeout=600,
    )  # fmt: skip


def synced(server: Server, tmp_path: Path, target: str, *options: str) -> dict[str, Any]:
    """The --json summary of a sync that succeeded."""
    summary: dict[str, Any] = ok_json(sync(server, tmp_path, target, "--json", *options))
    return summary


def assert_exact(server: Server, target: str) -> None:
    with server.client() as client:
        expected = api_followups(client)
    mirrored = mirror_of(target)
    assert mirrored.keys() == expected.keys()
    different = [key for key in expected if mirrored[key] != expected[key]]
    assert not different, (mirrored[different[0]], expected[different[0]])


def a_debt_with_followups(client: Relance, count: int) -> tuple[str, list[str]]:
    debt = client.debts.create(
        firstname="Sync", lastname="Mirror", amount="40.00", currency="EUR", email="m@example.fr"
    )
    made = [client.followups.create(debt_id=debt.id, type="sms").id for _ in range(count)]
    return debt.id, made


def test_a_mirror_is_exact_after_the_export_and_after_each_change(
    server: Server, target: str, tmp_path: Path
) -> None:
    first = synced(server, tmp_path, target)
    with server.client() as client:
        total = client.followups.list(limit=1).pagination.total
    assert first["exported"] == total > BULK
    assert first["changes_applied"] == 0
    assert first["cursor"] == stored_cursor(target)
    assert first["seconds"] > 0
    assert_exact(server, target)

    with server.client() as client:
        debt_id, made = a_debt_with_followups(client, 3)
        changed = [f.id for f in client.followups.list(type="call", limit=4).data]
        for followup_id in changed:
            client.followups.update(followup_id, summary=f"changed {secrets.token_hex(4)}")
        gone_debt, gone = a_debt_with_followups(client, 2)
        client.debts.delete(gone_debt)
    second = synced(server, tmp_path, target)
    assert second["exported"] == 0
    assert second["upserts"] == len(made) + len(changed)
    assert second["deletions"] == len(gone)
    assert second["changes_applied"] == len(made) + len(changed) + len(gone)
    assert second["cursor"] == stored_cursor(target) != first["cursor"]
    assert_exact(server, target)
    mirrored = mirror_of(target)
    assert {mirrored[followup_id]["debt_id"] for followup_id in made} == {debt_id}
    assert not set(gone) & mirrored.keys()

    third = synced(server, tmp_path, target)
    assert (third["changes_applied"], third["cursor"]) == (0, second["cursor"])
    if target.startswith("postgresql://"):
        columns = columns_of(target)
        assert columns["call_date"] == "timestamp with time zone"
        assert columns["is_retry"] == "boolean"
        assert columns["duration_ms"] == columns["email_open_count"] == "integer"
        assert len(columns) == 24
        assert any("(debt_id)" in index for index in indexes_of(target))


def test_a_sync_killed_at_random_points_leaves_an_exact_mirror(
    server: Server, target: str, tmp_path: Path
) -> None:
    """Killed at moments drawn across the time an unkilled run of each phase takes (timed on a
    mirror of its own): the command's start, the export's stream and its commit, the feed's
    pages and their commits."""
    rng = random.Random(f"{server.base} {target}")
    options = ("--page-size", "50")
    pace = str(tmp_path / f"pace.{'jsonl' if target.endswith('.jsonl') else 'sqlite'}")
    took = timed(server, tmp_path, pace, *options)
    killed = []
    for _ in range(KILLS):  # during the export (or before it, or just after)
        killed.append(
            killed_after(server, tmp_path, target, rng.uniform(0.3, 0.9) * took, *options)
        )
        consistent(target)
    assert any(killed)
    synced(server, tmp_path, target, *options)
    assert_exact(server, target)
    bulk_import(server, f"v{rng.randrange(10**9)}")  # BULK changes for the feed to apply
    took = timed(server, tmp_path, pace, *options)
    killed = []
    for _ in range(KILLS):  # during the feed's pages
        killed.append(
            killed_after(server, tmp_path, target, rng.uniform(0.3, 0.9) * took, *options)
        )
        consistent(target)
    assert any(killed)
    last = synced(server, tmp_path, target, *options)
    assert last["exported"] == 0
    assert_exact(server, target)
    if target.endswith(".jsonl"):
        seqs = feed_seqs(Path(target))
        assert seqs == sorted(seqs)
        assert len(seqs) == len(set(seqs)), "a change was written twice"


def timed(server: Server, tmp_path: Path, target: str, *options: str) -> float:
    started = time.monotonic()
    synced(server, tmp_path, target, *options)
    return time.monotonic() - started


def killed_after(
    server: Server, tmp_path: Path, target: str, seconds: float, *options: str
) -> bool:
    """Whether the sync was killed (rather than done before the moment came)."""
    process = subprocess.Popen(  # noqa: S603
        [*COMMAND, "followups", "sync", "--into", target, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(tmp_path, server.credentials()),
    )
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    return process.wait(30) == -signal.SIGKILL


def consistent(target: str) -> None:
    """Killed anywhere, a target holds a whole snapshot with its cursor, or no snapshot."""
    if stored_cursor(target) is None:
        assert mirror_of(target) == {}


def test_follow_picks_up_a_change_then_stops_on_ctrl_c_with_its_cursor(
    server: Server, tmp_path: Path
) -> None:
    target = str(tmp_path / "followed.sqlite")
    process = subprocess.Popen(  # noqa: S603
        [*COMMAND, "followups", "sync", "--into", target, "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path, server.credentials()),
    )
    try:
        until(lambda: stored_cursor(target) is not None)
        notes = f"picked up by --follow {secrets.token_hex(4)}"
        with server.client() as client:
            followup_id = client.followups.list(type="email", limit=1).data[0].id
            client.followups.update(followup_id, notes=notes)
        until(lambda: mirror_of(target)[followup_id]["notes"] == notes)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["interrupted"] is True
    assert summary["changes_applied"] >= 1
    assert summary["cursor"] == stored_cursor(target)
    assert_exact(server, target)


def until(done: Any) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if done():
                return
        except (sqlite3.Error, KeyError):
            pass  # not made yet
        if time.monotonic() > deadline:
            raise AssertionError("the mirror did not get there in time")
        time.sleep(0.2)


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_with_media_keeps_each_file_by_its_hash(server: Server, tmp_path: Path, kind: str) -> None:
    target, folder = str(tmp_path / f"mirror.{kind}"), tmp_path / "media"
    first = synced(server, tmp_path, target, "--with-media", str(folder))
    assert first["media_failed"] == 0
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert files
    assert all(
        name == f"{hashlib.sha256(data).hexdigest()}.{name.split('.')[1]}"
        for name, data in files.items()
    )
    assert {name.split(".")[1] for name in files} <= {"wav", "mp3", "ogg", "m4a", "pdf"}
    assert first["media_downloaded"] == len(files)
    with server.client() as client:
        pointed = {
            (followup.id, field)
            for followup in client.followups.list(limit=100)
            for field in ("audio_url", "pdf_url")
            if getattr(followup, field)
        }
    recorded = media_of(target)
    assert recorded.keys() == pointed
    assert {f"{sha}" for sha in recorded.values()} == {name.split(".")[0] for name in files}
    again = synced(server, tmp_path, target, "--with-media", str(folder))
    assert (again["media_downloaded"], again["media_failed"]) == (0, 0)


def test_a_cursor_past_the_horizon_starts_again_from_an_export(
    server: Server, tmp_path: Path
) -> None:
    target = str(tmp_path / "gone.sqlite")
    synced(server, tmp_path, target)
    with server.client() as client:
        followup_id = client.followups.list(type="sms", limit=1).data[0].id
        client.followups.update(followup_id, notes=f"while away {secrets.token_hex(4)}")
        list(client.followups.changes("now").iter_pages())  # a read numbers the change
    horizon(server, "last_seq")
    try:
        gone = sync(server, tmp_path, target, "--json")
    finally:
        horizon(server, "0")
    assert gone.returncode == 0, report(gone)
    assert "410" in gone.stderr
    assert "new export" in gone.stderr
    summary = json.loads(gone.stdout)
    assert summary["restarted_from_export"] is True
    assert summary["exported"] > BULK
    assert_exact(server, target)


def horizon(server: Server, value: str) -> None:
    """As the tombstone purge moves it: at `last_seq`, every cursor but the present is gone."""
    statement = f"UPDATE change_sequences SET horizon_seq = {value}"
    url = server.env.get("RELANCE_DATABASE_URL")
    if url is None:
        database = sqlite3.connect(server.home / "relance.sqlite3", timeout=30)
        with database:
            database.execute(statement)
        database.close()
        return

    async def update() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(update())


def test_what_is_not_a_mirror_is_refused(server: Server, tmp_path: Path) -> None:
    foreign = tmp_path / "crm.sqlite"
    database = sqlite3.connect(foreign)
    with database:
        database.execute("CREATE TABLE followups (id TEXT PRIMARY KEY, name TEXT)")
    database.close()
    refused = sync(server, tmp_path, str(foreign))
    assert refused.returncode == 2, report(refused)
    assert "did not make" in refused.stderr
    lines = tmp_path / "export.jsonl"
    lines.write_text('{"id": "abc"}\n')
    refused = sync(server, tmp_path, str(lines))
    assert refused.returncode == 2, report(refused)
    assert lines.read_text() == '{"id": "abc"}\n'
    elsewhere = tmp_path / "mirror.sqlite"
    synced(server, tmp_path, str(elsewhere))
    other = {
        **server.credentials(),
        "RELANCE_BASE_URL": server.base.replace("127.0.0.1", "localhost"),
    }
    moved = relance("followups", "sync", "--into", str(elsewhere), data_dir=tmp_path, env=other)
    assert moved.returncode == 2, report(moved)
    assert "mirrors" in moved.stderr


def test_sync_help_loads_no_server_package() -> None:
    script = LOADED_AFTER.format(args=["followups", "sync", "--help"], server=SERVER_PACKAGES)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--into" in done.stdout, done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == [], done.stdout
