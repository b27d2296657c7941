"""RELANCE_DATABASE_URL: the plain URLs people write, mapped onto the project's drivers."""

from __future__ import annotations

import pytest

from relance.config import ConfigError, parse_database_url


@pytest.mark.parametrize(
    ("url", "dsn", "sqlalchemy"),
    [
        (
            "postgresql://app:pw@db.internal:5433/relance",
            "postgresql://app:pw@db.internal:5433/relance",
            "postgresql+asyncpg://app:pw@db.internal:5433/relance",
        ),
        (
            "postgres://app@localhost/relance",
            "postgresql://app@localhost/relance",
            "postgresql+asyncpg://app@localhost/relance",
        ),
        (
            "postgresql://app@/relance?host=/var/run/postgresql",
            "postgresql://app@/relance?host=/var/run/postgresql",
            "postgresql+asyncpg://app@/relance?host=/var/run/postgresql",
        ),
    ],
)
def test_postgresql_urls(url: str, dsn: str, sqlalchemy: str) -> None:
    target = parse_database_url(url)
    assert (target.dialect, target.driver_dsn, target.sqlalchemy_url) == (
        "postgresql",
        dsn,
        sqlalchemy,
    )


def test_a_sqlite_url_names_a_file_as_sqlalchemy_does() -> None:
    relative = parse_database_url("sqlite:///data/db.sqlite3")
    absolute = parse_database_url("sqlite:////var/lib/relance/db.sqlite3")
    assert (relative.dialect, relative.driver_dsn) == ("sqlite", "data/db.sqlite3")
    assert absolute.driver_dsn == "/var/lib/relance/db.sqlite3"


@pytest.mark.parametrize("url", ["mysql://x/db", "sqlite://", "postgresql://", "relance"])
def test_other_urls_are_refused_with_the_forms_that_work(url: str) -> None:
    with pytest.raises(ConfigError, match="RELANCE_DATABASE_URL"):
        parse_database_url(url)
