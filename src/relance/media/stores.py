"""Where media live: a directory under the data dir that Relance serves itself, or an
S3-compatible bucket that serves presigned URLs. A followup refers to a stored object as
`media:KEY` in its `audio_url` or `pdf_url`; a client can only ever write http(s) URLs there."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from relance.config import ConfigError
from relance.media.sigv4 import Credentials, Presigner

if TYPE_CHECKING:
    from relance.config import Settings

PREFIX = "media:"
# Keys are made by Relance ("recordings/<32 hex>.mp3"); anything else in a URL is refused.
_KEY = re.compile(r"(recordings|documents)/[0-9a-f]{32}\.(mp3|wav|ogg|m4a|pdf)")


def valid_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


class MediaStore(Protocol):
    def put(self, key: str, source: Path, content_type: str) -> None: ...
    def delete(self, key: str) -> None: ...

    def url(self, key: str, expires: int, ttl: int, base_url: str) -> str:
        """A URL that serves the object until `expires` (Unix time, `ttl` seconds from now)."""
        ...


class LocalStore:
    """Files under `root`, served by Relance at /media/KEY?expires=...&signature=..., the
    signature an HMAC of the key and the expiry under a key derived from the deployment's."""

    def __init__(self, root: Path, signing_key: bytes) -> None:
        self.root = root
        # Copied for each URL: cheaper than keying a new HMAC each time.
        self._mac = hmac.new(signing_key, digestmod=hashlib.sha256)

    def put(self, key: str, source: Path, content_type: str) -> None:
        target = self.root / key
        _private_folder(self.root)
        _private_folder(target.parent)
        # Copied beside the target then renamed: a reader never sees half a file.
        partial = target.with_name(f".{target.name}.partial")
        with source.open("rb") as given, _private_file(partial) as copy:
            shutil.copyfileobj(given, copy)
        os.replace(partial, target)

    def delete(self, key: str) -> None:
        if valid_key(key):
            (self.root / key).unlink(missing_ok=True)

    def url(self, key: str, expires: int, ttl: int, base_url: str) -> str:
        # Nothing to escape: keys are Relance's own ([a-z0-9/.]), the signature URL-safe base64.
        return f"{base_url}/media/{key}?expires={expires}&signature={self.signature(key, expires)}"

    def signature(self, key: str, expires: int) -> str:
        mac = self._mac.copy()
        mac.update(f"{key}\n{expires}".encode())
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def path_of(self, key: str) -> Path | None:
        path = self.root / key
        return path if valid_key(key) and path.is_file() else None


# Recordings and letters are the debtors' personal data: readable by Relance's user alone,
# whatever the data dir's mode or the umask (which can only take permissions away).
_FILE_MODE, _FOLDER_MODE = 0o600, 0o700


def _private_folder(path: Path) -> None:
    path.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
    # Also for a folder made before, or by mkdir under a umask that took the owner's bits.
    if path.stat().st_mode & 0o777 != _FOLDER_MODE:
        path.chmod(_FOLDER_MODE)


def _private_file(path: Path) -> BinaryIO:
    """A new file at `path` that no one but its owner can read; one left by a copy that
    stopped is replaced."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _FILE_MODE)
    os.fchmod(descriptor, _FILE_MODE)
    return os.fdopen(descriptor, "wb")


class S3Store:
    """Objects in an S3-compatible bucket; credentials from the standard AWS variables (or any
    source boto3 reads: config files, an instance role)."""

    def __init__(self, bucket: str, endpoint_url: str | None, region: str | None) -> None:
        import boto3
        from botocore.config import Config

        session = boto3.Session(region_name=region)
        self.bucket = bucket
        self._region = session.region_name or "us-east-1"
        self._client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(signature_version="s3v4"),
        )
        self._credentials: Any = session.get_credentials()
        if self._credentials is None:
            raise ConfigError(
                "RELANCE_MEDIA_BACKEND=s3 found no AWS credentials: set AWS_ACCESS_KEY_ID and"
                " AWS_SECRET_ACCESS_KEY (or another source boto3 reads)"
            )
        self._presigner = Presigner(bucket, self._region, endpoint_url)
        self._signed_for = (0, 0)
        self._frozen = Credentials("", "")

    def put(self, key: str, source: Path, content_type: str) -> None:
        self._client.upload_file(
            str(source), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def url(self, key: str, expires: int, ttl: int, base_url: str) -> str:
        # A response's URLs share their expiry: the credentials are read once for all of them.
        if (expires, ttl) != self._signed_for:
            frozen = self._credentials.get_frozen_credentials()
            self._frozen = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
            self._signed_for = (expires, ttl)
        return self._presigner.url(key, ttl, self._frozen, expires - ttl)


def open_store(settings: Settings, signing_key: bytes) -> MediaStore:
    if settings.media_backend == "s3":
        assert settings.s3_bucket is not None  # checked with the settings
        return S3Store(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)
    return LocalStore(settings.data_dir / "media", signing_key)
