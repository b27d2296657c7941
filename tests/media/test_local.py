"""The local media store end to end: a file attached with `relance media attach`, listed and
read through the API as a signed URL, downloaded whole, by range and by HEAD, and refused once
tampered with or expired; followups without stored media show nulls."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from relance.keys import DeploymentKeys
from relance.media.stores import LocalStore
from relance.runtime import Runtime
from tests.commands import report
from tests.media.helpers import (
    API,
    Client,
    attach,
    debt_of,
    import_followups,
    local_path,
    new_followup,
    sample_files,
    shown,
)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return sample_files(tmp_path)


async def test_an_attached_recording_is_listed_signed_and_downloads(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    attached = await attach(runtime, followup, "--audio", str(files["wav"]), "--json")
    assert attached.returncode == 0, report(attached)
    printed = json.loads(attached.stdout)
    # The CLI has no request: its URLs start at RELANCE_PUBLIC_URL.
    assert printed["audio_url"].startswith("https://relance.example/media/recordings/")

    data = await shown(client, headers, followup)
    url = data["audio_url"]
    # The API's start at the address the request came to.
    assert url.startswith(f"{client.base_url}/media/recordings/")
    assert urlsplit(url).path.endswith(".wav")
    query = parse_qs(urlsplit(url).query)
    expires = int(query["expires"][0])
    assert abs(expires - (time.time() + 3600)) < 30
    assert data["media_urls_expire_at"] is not None
    assert data["pdf_url"] is None

    download = await client.get(local_path(url))
    assert download.status_code == 200
    assert download.content == files["wav"].read_bytes()
    assert download.headers["content-type"] == "audio/wav"
    assert download.headers["accept-ranges"] == "bytes"
    # The media handler's own caching stands: the signed URL may be replayed by the browser.
    [cache_control] = download.headers.get_list("cache-control")
    assert cache_control.startswith("private, max-age=")

    listed = await client.get(f"{API}/followups", headers=headers)
    row = listed.json()["data"][0]
    assert urlsplit(row["audio_url"]).path == urlsplit(url).path
    assert row["media_urls_expire_at"] is not None


async def test_ranges_and_head_let_a_player_seek(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    assert (await attach(runtime, followup, "--audio", str(files["wav"]))).returncode == 0
    path = local_path((await shown(client, headers, followup))["audio_url"])
    content = files["wav"].read_bytes()
    size = len(content)

    first = await client.get(path, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.content == content[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"

    tail = await client.get(path, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, content[-10:])
    middle = await client.get(path, headers={"Range": f"bytes=100-{size + 500}"})
    assert (middle.status_code, middle.content) == (206, content[100:])
    several = await client.get(path, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, several.content) == (200, content)

    beyond = await client.get(path, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert beyond.json()["error"] is True

    head = await client.head(path)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)
    assert head.content == b""


async def test_a_tampered_url_is_refused_in_the_envelope(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client, type="postmail", status="sent")
    assert (await attach(runtime, followup, "--pdf", str(files["pdf"]))).returncode == 0
    url = (await shown(client, headers, followup))["pdf_url"]
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    signature = query["signature"]
    forged = [
        {**query, "signature": ("A" if signature[0] != "A" else "B") + signature[1:]},
        {**query, "expires": str(int(query["expires"]) + 86_400)},
        {"expires": query["expires"]},
    ]
    for changed in forged:
        refused = await client.get(f"{parts.path}?{urlencode(changed)}")
        assert refused.status_code == 403, changed
        body = refused.json()
        assert body["error"] is True
        assert body["code"] == 403
        assert "media URL" in body["message"]
    # The same signature on another object's path.
    digit = parts.path[len("/media/documents/")]
    other = parts.path.replace(f"/documents/{digit}", f"/documents/{'1' if digit == '0' else '0'}")
    assert (await client.get(f"{other}?{parts.query}")).status_code == 403


@pytest.mark.parametrize("settings_overrides", [{"media_url_ttl_seconds": 1}])
async def test_an_expired_url_is_refused(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    assert (await attach(runtime, followup, "--audio", str(files["wav"]))).returncode == 0
    data = await shown(client, headers, followup)
    path = local_path(data["audio_url"])
    expires = int(parse_qs(urlsplit(path).query)["expires"][0])
    await asyncio.sleep(max(0.0, expires - time.time()) + 1.1)
    refused = await client.get(path)
    assert refused.status_code == 403
    assert "expired" in refused.json()["message"]
    fresh = await shown(client, headers, followup)
    assert (await client.get(local_path(fresh["audio_url"]))).status_code == 200


async def test_no_stored_media_shows_nulls_and_given_urls_as_given(
    runtime: Runtime, client: Client
) -> None:
    followup, headers = await new_followup(runtime, client)
    data = await shown(client, headers, followup)
    assert (data["audio_url"], data["pdf_url"], data["media_urls_expire_at"]) == (None,) * 3
    given = "https://recordings.example.com/call_1.mp3"
    changed = await client.put(
        f"{API}/followups/{followup}", headers=headers, json={"audio_url": given}
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert (data["audio_url"], data["media_urls_expire_at"]) == (given, None)


async def test_attach_refuses_what_is_not_a_recording_or_a_document(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client)
    text = await attach(runtime, followup, "--audio", str(files["txt"]))
    assert text.returncode == 1
    assert "is not an mp3, wav, ogg or m4a recording" in text.stderr
    pdf_as_audio = await attach(runtime, followup, "--audio", str(files["pdf"]))
    assert pdf_as_audio.returncode == 1
    both = await attach(runtime, followup, "--audio", str(files["wav"]), "--pdf", str(files["pdf"]))
    assert both.returncode == 2
    assert "one file" in both.stderr
    unknown = await attach(runtime, "x" * 22, "--pdf", str(files["pdf"]))
    assert unknown.returncode == 1
    assert "no followup" in unknown.stderr
    assert (await shown(client, headers, followup))["audio_url"] is None


async def test_an_import_row_can_carry_its_recording(
    runtime: Runtime, client: Client, files: dict[str, Path], tmp_path: Path
) -> None:
    followup, headers = await new_followup(runtime, client)
    debt = await debt_of(client, headers, followup)
    book = tmp_path / "book.csv"
    book.write_text(
        "external_id,debt_id,type,status,audio_file,pdf_file\n"
        f"C-1,{debt},call,deal_found,{files['wav'].name},\n"
        f"C-2,{debt},call,no_answer,{files['txt'].name},\n"
        f"L-1,{debt},postmail,sent,,{files['pdf'].name}\n"
    )
    result = await import_followups(runtime, book)
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"]) == (2, 1), report(result)
    assert summary["errors"][0]["line"] == 3
    problem = summary["errors"][0]["errors"]["audio_file"][0]
    assert "is not an mp3, wav, ogg or m4a recording" in problem

    listed = await client.get(f"{API}/followups/debt/{debt}", headers=headers)
    by_type = {row["type"]: row for row in listed.json()["data"]}
    recording_url = by_type["call"]["audio_url"]
    letter_url = by_type["postmail"]["pdf_url"]
    assert (await client.get(local_path(recording_url))).content == files["wav"].read_bytes()
    assert (await client.get(local_path(letter_url))).content == files["pdf"].read_bytes()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("name", "start", "content_type"),
    [
        ("call.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        ("call.ogg", b"OggS\x00\x02\x00\x00\x00\x00", "audio/ogg"),
        ("call.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"),
    ],
)
async def test_each_recording_format_is_recognised_by_its_content(
    runtime: Runtime, client: Client, tmp_path: Path, name: str, start: bytes, content_type: str
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    # Named .bin: the content, not the name, says what a file is.
    upload = tmp_path / f"{name}.bin"
    upload.write_bytes(start + bytes(range(256)) * 4)
    attached = await attach(runtime, followup, "--audio", str(upload))
    assert attached.returncode == 0, report(attached)
    url = (await shown(client, headers, followup))["audio_url"]
    assert urlsplit(url).path.endswith("." + name.rsplit(".", 1)[1])
    download = await client.get(local_path(url))
    assert download.headers["content-type"] == content_type
    assert download.content == upload.read_bytes()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("settings_overrides", [{"media_max_bytes": 4096}])
async def test_a_file_over_the_size_limit_is_refused(
    runtime: Runtime, client: Client, files: dict[str, Path]
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    too_big = await attach(runtime, followup, "--audio", str(files["wav"]))
    assert too_big.returncode == 1, report(too_big)
    assert "the limit is 4,096 (RELANCE_MEDIA_MAX_BYTES)" in too_big.stderr
    assert (await shown(client, headers, followup))["audio_url"] is None


async def test_a_url_signed_by_another_deployment_is_refused(
    runtime: Runtime, client: Client, files: dict[str, Path], tmp_path: Path
) -> None:
    followup, headers = await new_followup(runtime, client, type="call", status="deal_found")
    assert (await attach(runtime, followup, "--audio", str(files["wav"]))).returncode == 0
    ours = urlsplit((await shown(client, headers, followup))["audio_url"])
    key = ours.path.removeprefix("/media/")
    expires = int(parse_qs(ours.query)["expires"][0])
    other_deployment = LocalStore(tmp_path, DeploymentKeys.derive(b"another secret" * 3).media_urls)
    foreign = urlsplit(other_deployment.url(key, expires, 3600, ""))
    refused = await client.get(f"{foreign.path}?{foreign.query}")
    assert refused.status_code == 403
    assert refused.json()["message"] == "This media URL is not valid: its signature does not match"
