"""The S3 store end to end against an S3-compatible server on loopback (moto in server mode):
a file attached with `relance media attach` lands in the bucket, and the followup's presigned
URL downloads it. moto checks neither signatures nor expiry, so the signature itself is checked
against botocore's presigner, the reference implementation."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from relance.media.sigv4 import Credentials, Presigner
from relance.runtime import Runtime
from tests.commands import report
from tests.media.helpers import Client, attach, new_followup, sample_files, shown

BUCKET = "relance-media-test"
AWS = {"AWS_ACCESS_KEY_ID": "relance-test", "AWS_SECRET_ACCESS_KEY": "relance-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def settings_overrides(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    bucket = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-3")
    bucket.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    return {
        "media_backend": "s3",
        "s3_bucket": BUCKET,
        "s3_endpoint_url": s3_endpoint,
        "s3_region": "eu-west-3",
    }


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_attached_file_is_served_by_the_bucket_under_a_presigned_url(
    runtime: Runtime, client: Client, tmp_path: Path, s3_endpoint: str
) -> None:
    files = sample_files(tmp_path)
    followup, headers = await new_followup(runtime, client, type="postmail", status="sent")
    attached = await attach(runtime, followup, "--pdf", str(files["pdf"]))
    assert attached.returncode == 0, report(attached)

    data = await shown(client, headers, followup)
    url = data["pdf_url"]
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/documents/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert data["media_urls_expire_at"] is not None

    async with httpx.AsyncClient() as bucket_client:
        download = await bucket_client.get(url)
    assert download.status_code == 200
    assert download.content == files["pdf"].read_bytes()
    assert download.headers["content-type"] == "application/pdf"
    # The bucket serves its own objects: Relance's /media route does not.
    assert (await client.get(urlsplit(url).path)).status_code == 404


@pytest.mark.parametrize(
    ("endpoint", "token"),
    [("http://127.0.0.1:9000", None), (None, "session/token+=="), ("https://s3.example/x", None)],
)
def test_presigned_urls_match_botocores(endpoint: str | None, token: str | None) -> None:
    key = "recordings/0123456789abcdef0123456789abcdef.wav"
    botocore = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-3",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalr/XUtnFEMI+K7MDENG",
        aws_session_token=token,
        config=Config(
            signature_version="s3v4", s3={"addressing_style": "path" if endpoint else "virtual"}
        ),
    )
    theirs = botocore.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=900
    )
    stamp = parse_qs(urlsplit(theirs).query)["X-Amz-Date"][0]
    moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    credentials = Credentials("AKIDEXAMPLE", "wJalr/XUtnFEMI+K7MDENG", token)
    signed_at = int(moment.timestamp())
    ours = Presigner(BUCKET, "eu-west-3", endpoint).url(key, 900, credentials, signed_at)
    assert urlsplit(ours)._replace(query="") == urlsplit(theirs)._replace(query="")
    assert parse_qs(urlsplit(ours).query) == parse_qs(urlsplit(theirs).query)
