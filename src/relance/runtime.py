"""What a running Relance holds: settings, keys, codecs and the database, built once."""

from __future__ import annotations

from dataclasses import dataclass

from relance.auth.keyring import SigningKeyring
from relance.auth.standing import ClientStandings
from relance.auth.throttle import FailureThrottle
from relance.auth.tokens import TokenService
from relance.config import Settings
from relance.db import Database, connect
from relance.kit.ids import IdCodec
from relance.kit.keys import DeploymentKeys, load_master_secret
from relance.media.stores import MediaStore, open_store
from relance.ratelimit.limiter import RateLimiter


@dataclass(frozen=True, slots=True)
class TokenThrottles:
    by_address: FailureThrottle
    by_client: FailureThrottle


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    keys: DeploymentKeys
    ids: IdCodec
    tokens: TokenService
    keyring: SigningKeyring
    standings: ClientStandings
    throttles: TokenThrottles
    # None when RELANCE_RATE_LIMIT_ENABLED is off (a gateway in front enforces limits).
    limiter: RateLimiter | None
    media: MediaStore
    db: Database

    async def close(self) -> None:
        if self.limiter is not None:
            await self.limiter.close()
        await self.db.close()


async def open_runtime(settings: Settings) -> Runtime:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    keys = DeploymentKeys.derive(load_master_secret(settings.data_dir, secret))
    ids = IdCodec(keys.id_encryption)
    tokens = TokenService(
        keys.token_signing, settings.token_issuer, settings.token_ttl_seconds, ids
    )
    keyring = SigningKeyring(tokens, settings.auth_cache_seconds)
    standings = ClientStandings(settings.auth_cache_seconds)
    throttles = TokenThrottles(
        by_address=FailureThrottle(settings.token_failures_per_address, 60),
        by_client=FailureThrottle(settings.token_failures_per_client, 60),
    )
    limiter = RateLimiter.from_settings(settings) if settings.rate_limit_enabled else None
    media = open_store(settings, keys.media_urls)
    db = await connect(settings.database, settings.db_pool_size)
    return Runtime(settings, keys, ids, tokens, keyring, standings, throttles, limiter, media, db)
