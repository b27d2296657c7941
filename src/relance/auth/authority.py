"""What issues and checks the API's credentials, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from relance.auth.keyring import SigningKeyring
from relance.auth.standing import ClientStandings
from relance.auth.throttle import FailureThrottle
from relance.auth.tokens import TokenService


@dataclass(frozen=True, slots=True)
class TokenThrottles:
    by_address: FailureThrottle
    by_client: FailureThrottle


@dataclass(frozen=True, slots=True)
class Authority:
    """The token service and its signing keys, the clients' standing (revoked, secret
    rotated), the throttles on failed client authentication, and the key client secrets are
    hashed with."""

    tokens: TokenService
    keyring: SigningKeyring
    standings: ClientStandings
    throttles: TokenThrottles
    secret_hashing: bytes
