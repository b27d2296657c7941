"""Relance: a self-hostable, GetBill-compatible followups API.

`pip install relance` is the Python client (`from relance.client import Relance`) and the
client-side commands (`relance followups ...`); the server is the extra,
`pip install 'relance[server]'`. Nothing is imported here, so that the client loads only what it
needs, and `relance --help` starts quickly.
"""

from __future__ import annotations

import sys

SERVER_EXTRA = "server"
INSTALL_SERVER = f"pip install 'relance[{SERVER_EXTRA}]'"


def main() -> None:
    """The `relance` command. In a client-only install, a command that needs the server stops
    with the line that installs it (exit 2) rather than a traceback."""
    try:
        from relance.cli.main import main as run

        run()
    except ModuleNotFoundError as exc:
        if not _missing_from_server(exc):
            raise
        missing = exc.name or "a server package"
        sys.stderr.write(
            f"error: this command needs Relance's server ({missing} is not installed); "
            f"install it with: {INSTALL_SERVER}\n"
        )
        raise SystemExit(2) from None


def _missing_from_server(exc: ModuleNotFoundError) -> bool:
    """Whether the module is missing because the server extra is not installed, not because of a
    fault of ours (a module of Relance itself, or one missing from a complete install)."""
    if exc.name is None or exc.name.split(".")[0] == "relance":
        return False
    return bool(missing_server_requirements())


def missing_server_requirements() -> list[str]:
    """The distributions of `relance[server]` that are not installed."""
    import re
    from importlib import metadata

    try:
        requirements = metadata.requires("relance") or []
    except metadata.PackageNotFoundError:
        return []  # run from a source tree without an install: nothing to compare with
    marker = re.compile(rf"""extra\s*==\s*["']{SERVER_EXTRA}["']""")
    missing = []
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if name is None or not marker.search(requirement):
            continue
        try:
            metadata.distribution(name.group())
        except metadata.PackageNotFoundError:
            missing.append(name.group())
    return missing
