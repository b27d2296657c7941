"""The one settings object: every knob comes from a RELANCE_* environment variable."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Dialect = Literal["sqlite", "postgresql"]
# A sliding window keeps one entry per request it admits, so a limit is also a memory bound.
MAX_RATE_LIMIT = 1_000_000


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Where the data lives, in the forms each consumer needs."""

    dialect: Dialect
    # The driver's own connection string: a file path for SQLite, a libpq DSN for asyncpg.
    driver_dsn: str
    # The SQLAlchemy URL Alembic migrates through.
    sqlalchemy_url: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELANCE_", extra="ignore")

    data_dir: Path = Field(default=Path(".relance"))
    database_url: str | None = None
    # A deployment secret shared by every process of a scale-out setup; when unset the embedded
    # deployment generates one in the data dir on first use.
    secret_key: SecretStr | None = None
    token_ttl_seconds: int = Field(default=3600, ge=10, le=86_400)
    token_issuer: str = "relance"  # noqa: S105 - the JWT "iss" claim
    # Failed authentications at /token allowed per minute, from one address and for one client.
    token_failures_per_address: int = Field(default=20, ge=1)
    token_failures_per_client: int = Field(default=50, ge=1)
    # How stale a process's view of a client's revocation or secret rotation may be.
    auth_cache_seconds: int = Field(default=30, ge=0, le=3600)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Pages whose first row lies this deep or deeper seek their day from the day counts instead
    # of walking the index from the newest row.
    seek_from_offset: int = Field(default=1000, ge=0)
    # Rate limits (docs/contract.md §6): requests per OAuth client over a sliding window, reads
    # and writes counted apart; a client's own limits, when set, replace these defaults.
    rate_limit_enabled: bool = True
    rate_limit_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    rate_limit_reads: int = Field(default=1000, ge=1, le=MAX_RATE_LIMIT)
    rate_limit_writes: int = Field(default=500, ge=1, le=MAX_RATE_LIMIT)
    # What to do while Redis is unreachable: count in this process ("open") or answer 503.
    rate_limit_fail: Literal["open", "closed"] = "open"
    # Shared by every process when set (redis://, rediss:// or unix://); may hold a password.
    redis_url: SecretStr | None = None
    redis_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    # Media (docs/contract.md §5): a directory under the data dir that Relance serves, or an S3
    # bucket.
    media_backend: Literal["local", "s3"] = "local"
    media_url_ttl_seconds: int = Field(default=3600, ge=1, le=7 * 86_400)
    media_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    # The address clients reach Relance at, for the local store's URLs (default: the address
    # each request came to; set it behind a proxy that rewrites the host).
    public_url: str | None = None
    # Operations: logs on standard output, one JSON object per line ("text" reads better in a
    # terminal); one line per request unless access_log is off.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    # GET /metrics on a port of its own (same address as the API) instead of the API port.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # On SIGTERM, how long requests in flight may take to finish before they are cut.
    shutdown_timeout_seconds: int = Field(default=30, ge=1, le=3600)
    # The HTTP edge, enforced by Relance's protocol before any request reaches the app: the
    # request line and header block together, and the count of header lines (431 beyond, 414 for
    # the request line alone); how long a client may take to send its whole head, and the
    # slowest body it may trickle after a grace period (408 and the connection closed); open
    # connections per worker process beyond which new ones are refused (503).
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_headers: int = Field(default=100, ge=8, le=10_000)
    header_timeout_seconds: float = Field(default=10, gt=0, le=600)
    body_min_bytes_per_second: int = Field(default=1024, ge=1)
    max_connections_per_worker: int = Field(default=1000, ge=1, le=1_000_000)
    # Addresses or networks (CIDR) of the proxies whose X-Forwarded-For / X-Forwarded-Proto are
    # believed, comma-separated; none by default, so a caller's own address is what counts.
    trusted_proxies: str = ""
    # Change events and webhooks (docs/webhooks.md): off, no write records an event and
    # nothing is delivered. The retries' delays in seconds after each failed attempt (the
    # Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h); how
    # long a receiver has to answer; whether endpoints may be http, loopback or private
    # addresses (local development only); how long events and their deliveries are kept.
    webhooks_enabled: bool = True
    webhooks_retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhooks_allow_private_networks: bool = False
    # An endpoint whose every attempt has failed this long is disabled (five days).
    webhooks_disable_after_seconds: int = Field(default=5 * 86_400, ge=1)
    # Requests one delivery worker keeps in flight, over all endpoints (four at most each).
    webhooks_concurrency: int = Field(default=64, ge=1, le=1024)
    events_retention_days: int = Field(default=30, ge=1, le=3650)
    # The followups feed (docs/sync.md): how long a deleted followup's tombstone is kept at
    # least, so a client whose cursor is older must mirror again; how often a process looks for
    # the changes its long-polling clients wait for; how long an export may wait on a client
    # that reads none of what it is sent before it is cut.
    tombstone_retention_days: int = Field(default=30, ge=1, le=3650)
    changes_poll_seconds: float = Field(default=0.1, gt=0, le=5)
    export_stall_seconds: float = Field(default=60, gt=0, le=3600)

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("RELANCE_SECRET_KEY must be at least 32 characters of random text")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None:
            parse_database_url(value)  # raises ConfigError, a ValueError, with the fix to make
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in ("redis", "rediss", "unix"):
                raise ConfigError(
                    "RELANCE_REDIS_URL: use redis://host:6379/0, rediss://... or unix:///path"
                )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in proxy_list(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(
                    f"RELANCE_TRUSTED_PROXIES: {item!r} is not an IP address or network; "
                    "use e.g. 10.0.0.5,10.1.0.0/16"
                ) from None
        return value

    @field_validator("webhooks_retry_schedule")
    @classmethod
    def _delays(cls, value: str) -> str:
        retry_delays(value)  # raises ConfigError, with the fix to make
        return value

    @model_validator(mode="after")
    def _s3_named(self) -> Settings:
        if self.media_backend == "s3" and not self.s3_bucket:
            raise ConfigError("RELANCE_MEDIA_BACKEND=s3 needs RELANCE_S3_BUCKET (its bucket)")
        return self

    @property
    def database(self) -> DatabaseTarget:
        if self.database_url is None:
            path = self.data_dir / "relance.sqlite3"
            return DatabaseTarget("sqlite", str(path), f"sqlite:///{path}")
        return parse_database_url(self.database_url)


def proxy_list(value: str) -> list[str]:
    """The trusted proxies setting as its items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def retry_delays(value: str) -> tuple[float, ...]:
    """The retry schedule setting as its delays: seconds, each above 0, at most 30 days."""
    try:
        delays = tuple(float(item) for item in value.split(","))
    except ValueError:
        delays = ()
    if not delays or any(not 0 < delay <= 30 * 86_400 for delay in delays):
        raise ConfigError(
            "RELANCE_WEBHOOKS_RETRY_SCHEDULE: give the delays before each retry in seconds, "
            "comma-separated, each above 0 and at most 2592000, e.g. 5,300,1800"
        )
    return delays


def parse_database_url(url: str) -> DatabaseTarget:
    """Map a plain `sqlite:///PATH` or `postgresql://...` URL onto our drivers."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise ConfigError(
                "RELANCE_DATABASE_URL: a SQLite URL looks like sqlite:///path/to/file"
            )
        return DatabaseTarget("sqlite", path, f"sqlite:///{path}")
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname and not parts.path.strip("/"):
            raise ConfigError(
                "RELANCE_DATABASE_URL: a PostgreSQL URL looks like postgresql://user@host:5432/db"
            )
        plain = "postgresql" + url[len(parts.scheme) :]
        return DatabaseTarget("postgresql", plain, "postgresql+asyncpg" + url[len(parts.scheme) :])
    raise ConfigError(
        f"RELANCE_DATABASE_URL: unsupported scheme {parts.scheme!r}; "
        "use sqlite:///PATH or postgresql://user@host:port/db"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
