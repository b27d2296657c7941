"""What every command shares: the consoles, failing with a message, the runtime, JSON output."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson
import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console

from relance.config import ConfigError, Settings, get_settings
from relance.kit.ids import MalformedId, Resource
from relance.runtime import Runtime, open_runtime

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document, nothing else.")]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        fail("configuration:\n" + "\n".join(_setting_problems(exc)), 2)
    except (ConfigError, ValueError) as exc:
        fail(f"configuration: {exc}", 2)


def _setting_problems(exc: ValidationError) -> list[str]:
    """One line per bad setting, named as the operator sets it (RELANCE_...)."""
    problems = []
    for error in exc.errors(include_url=False):
        name = "RELANCE_" + "_".join(str(part) for part in error["loc"]).upper()
        field = Settings.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        given = error.get("input")
        if field is not None and "SecretStr" in str(field.annotation):
            given = MASK  # the secret as sent is never echoed, even when it is refused
        shown = f" (got {shown_setting(given)!r})" if isinstance(given, str | int | float) else ""
        problems.append(f"  {name}: {error['msg']}{shown}")
    return problems


MASK = "***"


def shown_setting(value: Any) -> Any:
    """A setting as printed: secrets masked, a URL's password too."""
    if isinstance(value, SecretStr):
        return MASK
    text = str(value) if value is not None else None
    if text and "://" in text:
        parts = urlsplit(text)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@")
            return urlunsplit(parts._replace(netloc=netloc))
    return value if isinstance(value, bool | int | float) or value is None else text


def with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `work` on a database at the code's schema: the embedded database migrates itself; a
    shared PostgreSQL is migrated by an operator, so one that is behind is refused."""
    from relance.schema import SchemaBehind, ensure_current, upgrade

    config = settings()
    if config.database.dialect == "sqlite":
        upgrade(config.database)

    async def run() -> T:
        runtime = await open_runtime(config)
        try:
            if config.database.dialect == "postgresql":
                await ensure_current(runtime.db, config.database)
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except SchemaBehind as exc:
        fail(str(exc))
    except ConfigError as exc:
        fail(f"configuration: {exc}", 2)
    except TimeoutError:  # an OSError too: the database may be reachable but too slow
        fail("the database did not answer in time: check that it is reachable and not overloaded")
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")


def print_json(document: Any) -> None:
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")


def company_key(runtime: Runtime, company: str) -> int:
    try:
        return runtime.ids.decode(Resource.COMPANY, company)
    except MalformedId:
        fail(f"{company!r} is not a company ID", 2)
