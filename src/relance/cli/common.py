"""What the server-side commands share: the settings, and the deployment they work on.

Everything of the server is loaded inside the functions, when a command runs: `relance --help`
and the client-side commands start without it (and run where only the client is installed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

from relance.cli.output import JsonFlag, err, fail, out, print_json

if TYPE_CHECKING:
    from pydantic import ValidationError

    from relance.config import Settings
    from relance.runtime import Deployment
    from relance.units import UnitOfWork

__all__ = [
    "JsonFlag",
    "announce_deployment",
    "company_key",
    "err",
    "fail",
    "in_one_write",
    "out",
    "print_json",
    "settings",
    "with_deployment",
]

T = TypeVar("T")
# Exit code of a command run where no deployment exists (as for an invalid setting: the
# caller's environment is what to fix).
NO_DEPLOYMENT = 2


def settings() -> Settings:
    from pydantic import ValidationError

    from relance.config import ConfigError, get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        fail("configuration:\n" + "\n".join(_setting_problems(exc)), 2)
    except (ConfigError, ValueError) as exc:
        fail(f"configuration: {exc}", 2)


def _setting_problems(exc: ValidationError) -> list[str]:
    """One line per bad setting, named as the operator sets it (RELANCE_...)."""
    from relance.config import Settings

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
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return MASK
    text = str(value) if value is not None else None
    if text and "://" in text:
        parts = urlsplit(text)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@")
            return urlunsplit(parts._replace(netloc=netloc))
    return value if isinstance(value, bool | int | float) or value is None else text


def announce_deployment(config: Settings) -> None:
    """The first line of a command that may create a deployment: which one it works on."""
    err.print(deployment_line(config), highlight=False, soft_wrap=True)


def deployment_line(config: Settings) -> str:
    """Which deployment a command works on, and the variable that chose it, for its first line."""
    if config.database_url is None:
        where = f"{config.data_dir.resolve()} (RELANCE_DATA_DIR)"
    elif config.database.dialect == "sqlite":
        where = f"SQLite {_sqlite_file(config)} (RELANCE_DATABASE_URL)"
    else:
        where = f"PostgreSQL {shown_setting(config.database_url)} (RELANCE_DATABASE_URL)"
    if config.secret_key is not None:
        return f"Relance deployment: {where}, secret key from RELANCE_SECRET_KEY"
    if config.database_url is not None:
        return f"Relance deployment: {where}, secret key in {config.data_dir.resolve()}"
    return f"Relance deployment: {where}"


def _sqlite_file(config: Settings) -> Path:
    return Path(config.database.driver_dsn).resolve()


def in_one_write(
    work: Callable[[Deployment, UnitOfWork], Awaitable[T]], *, create: bool = False
) -> T:
    """`work` as one write (one transaction, see relance.units) on the deployment's database,
    as with_deployment finds (or, with `create`, makes) it."""

    async def written(deployment: Deployment) -> T:
        from relance.units import unit_of_work

        async with unit_of_work(deployment.db) as unit:
            return await work(deployment, unit)

    return with_deployment(written, create=create)


def with_deployment(work: Callable[[Deployment], Awaitable[T]], *, create: bool = False) -> T:
    """Run `work` on a database at the code's schema: the embedded database migrates itself; a
    shared PostgreSQL is migrated by an operator, so one that is behind is refused.

    Only the commands that may start a deployment (`demo`, `serve`) pass `create`; any other
    stops, exit 2, where there is none, rather than make an empty one (a new database and a new
    secret key) in whatever folder it was run from."""
    import asyncio

    from relance.config import ConfigError
    from relance.runtime import open_deployment
    from relance.schema import SchemaBehind, ensure_current, upgrade

    config = settings()
    embedded = config.database.dialect == "sqlite"
    if embedded and not create:
        _require_database_file(config)
    if embedded and _sqlite_file(config).exists():
        _require_secret_key(config)
    if embedded:
        upgrade(config.database)

    async def run() -> T:
        if not embedded:
            if await _holds_schema(config):
                _require_secret_key(config)
            elif not create:
                _no_schema(config)
        deployment = await open_deployment(config)
        try:
            if not embedded:
                await ensure_current(deployment.db, config.database)
            return await work(deployment)
        finally:
            await deployment.close()

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


_CREATORS = "`relance db upgrade`, `relance demo` or `relance serve` make a new one"


def _require_database_file(config: Settings) -> None:
    if _sqlite_file(config).exists():
        return
    if config.database_url is None:
        folder = config.data_dir.resolve()
        fail(
            f"no Relance deployment in {folder} (no relance.sqlite3 there): run this command in"
            " the folder that holds the deployment's .relance, or set RELANCE_DATA_DIR to its"
            f" data directory; {_CREATORS}",
            NO_DEPLOYMENT,
        )
    fail(
        f"no Relance database at {_sqlite_file(config)}: set RELANCE_DATABASE_URL to the"
        f" deployment's database; {_CREATORS}",
        NO_DEPLOYMENT,
    )


async def _holds_schema(config: Settings) -> bool:
    """A PostgreSQL deployment exists once its schema does: the database answers and holds
    Relance's migrations (at whatever revision; ensure_current then says if it is behind)."""
    from relance.db import connect
    from relance.schema import current_revision

    db = await connect(config.database, 1)
    try:
        return await current_revision(db) is not None
    finally:
        await db.close()


def _no_schema(config: Settings) -> NoReturn:
    fail(
        f"no Relance deployment in {shown_setting(config.database_url)}: the database has"
        " no Relance schema; set RELANCE_DATABASE_URL to the deployment's database, or run"
        " `relance db upgrade` to create the schema there",
        NO_DEPLOYMENT,
    )


def _require_secret_key(config: Settings) -> None:
    """Every public ID and client secret hangs on the deployment's secret: a new one, made up
    beside an existing database, would silently break them all. Checked wherever a deployment
    exists, before any command may make a key."""
    from relance.keys import KEY_FILE_NAME

    key_file = config.data_dir.resolve() / KEY_FILE_NAME
    if config.secret_key is not None or key_file.exists():
        return
    fail(
        f"the deployment's database exists but its secret key {key_file} does not, and"
        " RELANCE_SECRET_KEY is not set: restore secret.key from a backup into that folder"
        " (RELANCE_DATA_DIR), or set RELANCE_SECRET_KEY to the deployment's secret",
        NO_DEPLOYMENT,
    )


def upgrade_deployment(config: Settings) -> None:
    """Apply every pending migration; a new deployment also gets its secret key, made with the
    database it goes with, so that later commands find a whole deployment. An existing one
    keeps its key wherever it is: the migrations need none, and one made up here would not
    be the deployment's."""
    import asyncio

    from relance.keys import load_master_secret
    from relance.schema import upgrade

    if config.database.dialect == "sqlite":
        existed = _sqlite_file(config).exists()
    else:
        existed = asyncio.run(_holds_schema(config))
    upgrade(config.database)
    if not existed and config.secret_key is None:
        load_master_secret(config.data_dir, None)


def company_key(deployment: Deployment, company: str) -> int:
    from relance.kit.ids import MalformedId
    from relance.resources import Resource

    try:
        return deployment.ids.decode(Resource.COMPANY, company)
    except MalformedId:
        fail(f"{company!r} is not a company ID", 2)
