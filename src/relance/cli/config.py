"""`relance config check`: the effective configuration, secrets masked, and whether the
database (and Redis, when configured) answer with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from relance.cli.common import (
    JsonFlag,
    fail,
    out,
    print_json,
    settings,
    shown_setting,
    with_deployment,
)

if TYPE_CHECKING:
    from relance.runtime import Deployment

config_app = typer.Typer(no_args_is_help=True, help="The configuration.")


@config_app.command("check")
def check(as_json: JsonFlag = False) -> None:
    """Print every setting as Relance reads it (secrets masked), then check that the database,
    and Redis when configured, answer. Exit 1 if one does not, 2 if a setting is invalid."""
    from relance.health.service import readiness

    config = settings()  # an invalid setting stops here, with what to fix
    shown = {f"RELANCE_{name.upper()}": shown_setting(value) for name, value in config}
    if config.database_url is None:
        shown["RELANCE_DATABASE_URL"] = f"(embedded) {config.database.sqlalchemy_url}"

    async def work(deployment: Deployment) -> dict[str, str | None]:
        from relance.runtime import open_limiter

        # Redis is only the rate limiter's: checked as the limiter the API would use.
        limiter = open_limiter(config)
        try:
            return await readiness(deployment.db, limiter)
        finally:
            if limiter is not None:
                await limiter.close()

    if not as_json:  # shown before the checks, which may stop the command
        for name, value in shown.items():
            out.print(f"{name}={'' if value is None else value}", highlight=False)
    checks = with_deployment(work)
    problems = {name: problem for name, problem in checks.items() if problem is not None}
    if as_json:
        print_json({"settings": shown, "checks": {k: v or "ok" for k, v in checks.items()}})
    else:
        for name, problem in checks.items():
            out.print(f"{name}: {problem or 'ok'}", highlight=False)
    if problems:
        fail("; ".join(f"{name} {problem}" for name, problem in problems.items()))
