"""The deployment's secret keys: one master secret, and a subkey derived from it per purpose."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from relance.config import ConfigError

KEY_FILE_NAME = "secret.key"


@dataclass(frozen=True, slots=True)
class DeploymentKeys:
    """Independent keys, so that no use of one can help attack another."""

    id_encryption: bytes
    client_secret_hashing: bytes
    demo_credentials: bytes
    media_urls: bytes
    webhook_secrets: bytes
    change_cursors: bytes
    _master: bytes = field(repr=False)

    @classmethod
    def derive(cls, master: bytes) -> DeploymentKeys:
        return cls(
            id_encryption=_derive(master, b"relance id encryption v1"),
            client_secret_hashing=_derive(master, b"relance client secret hashing v1"),
            demo_credentials=_derive(master, b"relance demo credentials v1"),
            media_urls=_derive(master, b"relance media urls v1"),
            webhook_secrets=_derive(master, b"relance webhook secrets v1"),
            change_cursors=_derive(master, b"relance change cursors v1"),
            _master=master,
        )

    def token_signing(self, version: int) -> bytes:
        """The token signing key of a version: rotating keys only ever adds a version number,
        so no key material needs storing beyond the master secret."""
        return _derive(self._master, f"relance token signing v{version}".encode())


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def load_master_secret(data_dir: Path, configured: str | None) -> bytes:
    """The configured secret, else the data dir's, created with mode 0600 on first use."""
    if configured is not None:
        return configured.encode()
    path = data_dir / KEY_FILE_NAME
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    master = secrets.token_bytes(32)
    # Written aside, then linked into place: a process starting alongside reads either no file or
    # a whole one, and the first link wins.
    staging = path.with_name(f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(master) + b"\n")
    try:
        os.link(staging, path)
    except FileExistsError:
        return _read_key(path)
    finally:
        staging.unlink()
    return master


def _read_key(path: Path) -> bytes:
    try:
        master = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError):
        master = b""
    if len(master) < 32:
        raise ConfigError(f"{path} is not a Relance secret key; restore it from a backup")
    return master
