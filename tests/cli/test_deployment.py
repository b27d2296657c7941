"""No silent new deployment: only `relance demo`, `relance db upgrade` and `relance serve` may
create one. Every other command, run where none exists, exits 2 naming where it looked and the
variable that chooses it, and leaves nothing behind; the commands that create say which
deployment they work on."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands import COMMAND, TIMEOUT, flat, free_port, relance, report, serving
from tests.postgres import scratch_database

SOME_ID = "0" * 22

# Every command that works on a deployment without being allowed to create one.
ADMIN_COMMANDS = [
    ("clients", "list"),
    ("clients", "create", "--company", SOME_ID, "--scopes", "followups:read"),
    ("clients", "revoke", "rlc_x"),
    ("clients", "set-limits", "rlc_x", "--reset"),
    ("clients", "rotate-secret", "rlc_x"),
    ("companies", "create", "Acme SAS"),
    ("keys", "rotate"),
    ("db", "recount"),
    ("config", "check"),
    ("import", "debts", "{debts}", "--company", SOME_ID),
    ("import", "followups", "{debts}", "--company", SOME_ID),
    ("media", "attach", SOME_ID, "--pdf", "{debts}"),
]


def in_folder(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`relance ARGS` run from FOLDER, as a person would: no RELANCE_* setting unless given."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("RELANCE_")}
    return subprocess.run(  # noqa: S603
        [*COMMAND, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**clean, **(env or {})},
        check=False,
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture
def debts_file(tmp_path: Path) -> Path:
    """A file for the commands that read one, outside the folder they run in."""
    source = tmp_path / "files" / "debts.csv"
    source.parent.mkdir()
    source.write_text("external_id,amount\nD1,10.00\n")
    return source


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_admin_command_where_no_deployment_exists_exits_2_and_creates_nothing(
    elsewhere: Path, debts_file: Path, command: tuple[str, ...]
) -> None:
    args = [arg.replace("{debts}", str(debts_file)) for arg in command]

    result = in_folder(elsewhere, *args)

    assert result.returncode == 2, report(result)
    said = flat(result.stderr)
    assert "Traceback" not in said, report(result)
    assert f"no Relance deployment in {elsewhere / '.relance'}" in said, report(result)
    assert "RELANCE_DATA_DIR" in said, report(result)
    assert list(elsewhere.iterdir()) == []


def test_a_data_dir_without_a_deployment_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "typo"

    result = relance("clients", "list", data_dir=missing)

    assert result.returncode == 2, report(result)
    assert f"no Relance deployment in {missing}" in flat(result.stderr), report(result)
    assert not missing.exists()


def test_a_missing_sqlite_database_url_is_named(elsewhere: Path) -> None:
    missing = elsewhere / "gone.sqlite3"

    result = in_folder(
        elsewhere, "companies", "create", "X", env={"RELANCE_DATABASE_URL": f"sqlite:///{missing}"}
    )

    assert result.returncode == 2, report(result)
    said = flat(result.stderr)
    assert f"no Relance database at {missing}" in said, report(result)
    assert "RELANCE_DATABASE_URL" in said, report(result)
    assert list(elsewhere.iterdir()) == []


def test_db_upgrade_creates_a_whole_deployment_the_other_commands_then_use(
    elsewhere: Path,
) -> None:
    created = in_folder(elsewhere, "db", "upgrade")
    assert created.returncode == 0, report(created)
    assert f"Relance deployment: {elsewhere / '.relance'}" in flat(created.stderr)
    assert sorted(p.name for p in (elsewhere / ".relance").iterdir()) == [
        "relance.sqlite3",
        "secret.key",
    ]

    made = in_folder(elsewhere, "companies", "create", "Acme SAS", "--json")

    assert made.returncode == 0, report(made)
    listed = in_folder(elsewhere, "clients", "list")
    assert listed.returncode == 0, report(listed)


def test_a_database_without_its_secret_key_is_refused_not_given_a_new_key(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert relance("db", "upgrade", data_dir=home).returncode == 0
    (home / "secret.key").unlink()

    result = relance("companies", "create", "Acme SAS", data_dir=home)

    assert result.returncode == 2, report(result)
    said = flat(result.stderr)
    assert f"its secret key {home / 'secret.key'} does not" in said, report(result)
    assert "RELANCE_SECRET_KEY" in said, report(result)
    assert not (home / "secret.key").exists()


@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve", "--port", "{port}")])
def test_no_command_makes_up_a_key_beside_an_existing_database(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`db upgrade` migrates without one (the migrations need none); `serve`, which would hand
    out IDs and secrets under it, refuses."""
    home = tmp_path / "home"
    assert relance("db", "upgrade", data_dir=home).returncode == 0
    (home / "secret.key").unlink()
    args = [arg.replace("{port}", str(free_port())) for arg in command]

    result = relance(*args, data_dir=home)

    assert not (home / "secret.key").exists(), report(result)
    if command[0] == "serve":
        assert result.returncode == 2, report(result)
        assert f"its secret key {home / 'secret.key'} does not" in flat(result.stderr)
    else:
        assert result.returncode == 0, report(result)


def test_serve_first_says_which_deployment_it_serves(tmp_path: Path) -> None:
    home = tmp_path / "home"

    with serving(home, tmp_path):
        pass

    (log,) = tmp_path.glob("serve-*.log")
    assert log.read_text().splitlines()[0] == f"Relance deployment: {home} (RELANCE_DATA_DIR)"
    assert (home / "secret.key").is_file()


def test_the_deployment_line_never_shows_a_database_password(elsewhere: Path) -> None:
    unreachable = "postgresql://relance:hunter2-secret@127.0.0.1:9/relance"

    named = in_folder(
        elsewhere, "serve", "--port", str(free_port()), env={"RELANCE_DATABASE_URL": unreachable}
    )

    assert named.returncode == 1, report(named)
    first = named.stderr.splitlines()[0]
    assert first == (
        "Relance deployment: PostgreSQL postgresql://relance:***@127.0.0.1:9/relance"
        f" (RELANCE_DATABASE_URL), secret key in {elsewhere / '.relance'}"
    ), report(named)
    assert "hunter2-secret" not in named.stderr + named.stdout, report(named)
    assert "cannot reach the database" in flat(named.stderr), report(named)


# PostgreSQL: a deployment exists once the database answers and holds Relance's schema.


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    with scratch_database("relance_deploy") as url:
        yield url


@pytest.mark.postgresql
def test_a_postgresql_database_without_the_schema_is_no_deployment(
    elsewhere: Path, empty_postgres: str
) -> None:
    env = {"RELANCE_DATABASE_URL": empty_postgres}

    result = in_folder(elsewhere, "clients", "list", env=env)

    assert result.returncode == 2, report(result)
    said = flat(result.stderr)
    assert f"no Relance deployment in {empty_postgres}" in said, report(result)
    assert "RELANCE_DATABASE_URL" in said, report(result)
    assert "relance db upgrade" in said, report(result)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.postgresql
def test_a_postgresql_deployment_without_its_secret_is_refused(
    elsewhere: Path, empty_postgres: str
) -> None:
    secret = {"RELANCE_DATABASE_URL": empty_postgres, "RELANCE_SECRET_KEY": "s" * 40}
    assert in_folder(elsewhere, "db", "upgrade", env=secret).returncode == 0
    assert in_folder(elsewhere, "companies", "create", "X", env=secret).returncode == 0

    result = in_folder(elsewhere, "clients", "list", env={"RELANCE_DATABASE_URL": empty_postgres})

    assert result.returncode == 2, report(result)
    assert "RELANCE_SECRET_KEY" in flat(result.stderr), report(result)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.postgresql
def test_db_upgrade_of_an_existing_postgresql_deployment_makes_no_key(
    elsewhere: Path, empty_postgres: str
) -> None:
    """An operator upgrading from another machine or folder leaves no stray key there, which
    later commands run from that folder would take for the deployment's."""
    secret = {"RELANCE_DATABASE_URL": empty_postgres, "RELANCE_SECRET_KEY": "s" * 40}
    assert in_folder(elsewhere, "db", "upgrade", env=secret).returncode == 0

    upgraded = in_folder(elsewhere, "db", "upgrade", env={"RELANCE_DATABASE_URL": empty_postgres})

    assert upgraded.returncode == 0, report(upgraded)
    assert list(elsewhere.iterdir()) == []
    served = in_folder(
        elsewhere,
        "serve",
        "--port",
        str(free_port()),
        env={"RELANCE_DATABASE_URL": empty_postgres},
    )
    assert served.returncode == 2, report(served)
    assert "RELANCE_SECRET_KEY" in flat(served.stderr), report(served)
    assert list(elsewhere.iterdir()) == []
