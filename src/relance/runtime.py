"""What a running Relance holds, built once: a Deployment (settings, keys, IDs, media and
database) for every command, and, for the API server, a Runtime that adds the token authority
and the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from relance.auth.authority import Authority, TokenThrottles
from relance.auth.keyring import SigningKeyring
from relance.auth.standing import ClientStandings
from relance.auth.throttle import FailureThrottle
from relance.auth.tokens import TokenService
from relance.changes.repository import change_watch
from relance.config import Settings
from relance.db import Database, connect
from relance.events.log import EventLog
from relance.keys import DeploymentKeys, load_master_secret
from relance.kit.ids import IdCodec
from relance.kit.watch import Watch
from relance.media.stores import MediaStore, open_store
from relance.ratelimit.limiter import RateLimiter
from relance.resources import Resource


@dataclass(frozen=True, slots=True)
class Deployment:
    settings: Settings
    keys: DeploymentKeys
    ids: IdCodec
    media: MediaStore
    db: Database
    # What every write records its change events through.
    events: EventLog

    async def close(self) -> None:
        await self.db.close()


@dataclass(frozen=True, slots=True)
class Runtime(Deployment):
    authority: Authority
    # None when RELANCE_RATE_LIMIT_ENABLED is off (a gateway in front enforces limits).
    limiter: RateLimiter | None
    # What the changes feed's long-polling requests wait on: the companies' last change.
    changes: Watch

    async def close(self) -> None:
        await self.changes.close()
        if self.limiter is not None:
            await self.limiter.close()
        await Deployment.close(self)


async def open_deployment(settings: Settings) -> Deployment:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    keys = DeploymentKeys.derive(load_master_secret(settings.data_dir, secret))
    media = open_store(settings, keys.media_urls)
    db = await connect(settings.database, settings.db_pool_size)
    ids = IdCodec(keys.id_encryption, Resource)
    return Deployment(settings, keys, ids, media, db, EventLog(settings.webhooks_enabled))


async def open_runtime(settings: Settings) -> Runtime:
    deployment = await open_deployment(settings)
    keys = deployment.keys
    tokens = TokenService(
        keys.token_signing, settings.token_issuer, settings.token_ttl_seconds, deployment.ids
    )
    authority = Authority(
        tokens,
        SigningKeyring(tokens, settings.auth_cache_seconds),
        ClientStandings(settings.auth_cache_seconds),
        TokenThrottles(
            by_address=FailureThrottle(settings.token_failures_per_address, 60),
            by_client=FailureThrottle(settings.token_failures_per_client, 60),
        ),
        keys.client_secret_hashing,
    )
    return Runtime(
        settings,
        keys,
        deployment.ids,
        deployment.media,
        deployment.db,
        deployment.events,
        authority,
        open_limiter(settings),
        change_watch(deployment.db, settings.changes_poll_seconds),
    )


def open_limiter(settings: Settings) -> RateLimiter | None:
    """The rate limiter the API enforces, None when RELANCE_RATE_LIMIT_ENABLED is off."""
    return RateLimiter.from_settings(settings) if settings.rate_limit_enabled else None
