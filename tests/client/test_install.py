"""`pip install relance` into a fresh virtual environment, as an integrator would: the client and
the client-side commands, none of the server's packages, every requirement a range; the server's
commands say how to install the server. And the exact pins the project itself is developed with
(constraints.txt) stay within those ranges."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.commands import report

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 300  # seconds; a first run fetches the wheels, later ones use pip's cache
RUN_TIMEOUT = 60

# What `relance[server]` brings and an integrator's project must not be made to take.
SERVER_PACKAGES = {
    "alembic",
    "asyncpg",
    "boto3",
    "botocore",
    "cryptography",
    "hiredis",
    "litestar",
    "msgspec",
    "orjson",
    "prometheus-client",
    "pydantic-settings",
    "pyjwt",
    "redis",
    "sqlalchemy",
    "uvicorn",
}
INSTALL_HINT = "pip install 'relance[server]'"

Demo = tuple[str, dict[str, Any]]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def client_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding `pip install relance` from this checkout: its bin/."""
    home = tmp_path_factory.mktemp("client-only")
    source = home / "relance"
    # A copy, so that building the wheel leaves nothing in the checkout others work in.
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    venv = home / "venv"
    # No pip inside: this environment's pip installs into it (--python), which is quicker.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    run([*pip, "install", "--quiet", "--disable-pip-version-check", str(source)], INSTALL_TIMEOUT)
    return venv / "bin"


def run(
    command: list[str], timeout: float = RUN_TIMEOUT, **options: Any
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=timeout, check=False, **options
    )
    assert result.returncode == 0, report(result)
    return result


def python(bin_dir: Path, code: str, **options: Any) -> Any:
    """What CODE, run by the fresh environment's Python, prints as JSON."""
    return json.loads(run([str(bin_dir / "python"), "-c", code], **options).stdout)


def command(
    bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`relance ARGS` as installed in the fresh environment, with no Relance setting but ENV."""
    environment = {key: value for key, value in os.environ.items() if "RELANCE_" not in key}
    environment.update(env or {})
    return subprocess.run(  # noqa: S603
        [str(bin_dir / "relance"), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=cwd,
        env=environment,
        check=False,
    )


def test_no_server_package_comes_with_the_client(client_only: Path) -> None:
    installed = {
        canonical(name)
        for name in python(
            client_only,
            "import importlib.metadata as m, json;"
            "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))",
        )
    }
    assert {"relance", "httpx", "pydantic", "typer", "rich"} <= installed
    assert installed & SERVER_PACKAGES == set()


def test_every_requirement_is_a_range(client_only: Path) -> None:
    declared = python(
        client_only,
        "import importlib.metadata as m, json; print(json.dumps(m.requires('relance')))",
    )
    requirements = [Requirement(text) for text in declared]
    bare = {canonical(r.name) for r in requirements if r.marker is None}
    assert bare == {"httpx", "pydantic", "typer", "rich"}
    for requirement in requirements:
        if requirement.name == "relance":
            continue  # an extra naming others (dev brings server)
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement} is not a range"


def test_the_client_imports_without_the_server(client_only: Path) -> None:
    loaded = python(
        client_only,
        "import json, sys\n"
        "from relance.client import AsyncRelance, Relance\n"
        "client = Relance(base_url='http://127.0.0.1:9', client_id='a', client_secret='b')\n"
        "client.close()\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))",
    )
    assert {"httpx", "pydantic"} <= set(loaded)


def test_the_client_reads_followups_from_a_server(client_only: Path, demo: Demo) -> None:
    base, company = demo
    statuses = python(
        client_only,
        "import json\n"
        "from relance.client import Relance\n"
        f"with Relance(base_url={base!r}, client_id={company['client_id']!r},"
        f" client_secret={company['client_secret']!r}) as client:\n"
        "    page = client.followups.list(status='no_answer', limit=5)\n"
        "    print(json.dumps([followup.status for followup in page.data]))",
    )
    assert statuses == ["no_answer"] * 5


@pytest.mark.parametrize(
    "args", [["serve"], ["demo"], ["db", "upgrade"], ["clients", "list"]], ids=" ".join
)
def test_a_server_command_says_how_to_install_the_server(
    client_only: Path, tmp_path: Path, args: list[str]
) -> None:
    result = command(client_only, *args, cwd=tmp_path)
    assert result.returncode == 2, report(result)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, report(result)
    assert INSTALL_HINT in lines[0]
    assert list(tmp_path.iterdir()) == []  # and no deployment was started on the way


def test_the_client_commands_start_without_the_server(client_only: Path, tmp_path: Path) -> None:
    top = command(client_only, "--help", cwd=tmp_path)
    assert top.returncode == 0, report(top)
    assert "followups" in top.stdout
    listing = command(client_only, "followups", "list", "--help", cwd=tmp_path)
    assert listing.returncode == 0, report(listing)
    assert "--status" in listing.stdout


def test_the_client_commands_read_followups(client_only: Path, demo: Demo, tmp_path: Path) -> None:
    base, company = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    result = command(
        client_only, "followups", "list", "--type", "email", "--json", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, report(result)
    page = json.loads(result.stdout)
    assert page["data"]
    assert {row["type"] for row in page["data"]} == {"email"}


def test_the_constraints_pin_every_requirement_within_its_range() -> None:
    """What scripts/setup installs (exact) is what pyproject.toml allows (ranges)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[canonical(name)] = version.strip()
    declared = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared.extend(extra)
    for text in declared:
        requirement = Requirement(text)
        if requirement.name == "relance":
            continue
        pinned = pins.get(canonical(requirement.name))
        assert pinned is not None, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned}: {text}"
