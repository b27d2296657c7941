"""Byte ranges and signed URLs at their edges, as RFC 9110 §14 reads them: a range that asks for
no byte is a 416 with `Content-Range: bytes */SIZE`, one the server cannot read is ignored (200,
the whole file), and no number, however long or in whatever digits, is a 500."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from relance.media.stores import LocalStore
from relance.runtime import Runtime
from tests.media.helpers import Client

CONTENT = bytes(range(256)) * 4  # 1024 bytes
SIZE = len(CONTENT)


def stored(runtime: Runtime, tmp_path: Path, content: bytes, name: str) -> str:
    """The path and signed query of a file put in the deployment's own store."""
    store = runtime.media
    assert isinstance(store, LocalStore)
    source = tmp_path / "source"
    source.write_bytes(content)
    key = f"recordings/{name * 32}.wav"
    store.put(key, source, "audio/wav")
    url = store.url(key, int(time.time()) + 600, 600, "http://testserver.local")
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def media_path(runtime: Runtime, tmp_path: Path) -> str:
    return stored(runtime, tmp_path, CONTENT, "a")


@pytest.mark.parametrize(
    "header",
    [
        "bytes=-0",
        "bytes=-00",
        f"bytes={SIZE}-",
        f"bytes={SIZE}-{SIZE + 10}",
        f"bytes={'9' * 5000}-",
    ],
)
async def test_a_range_that_asks_for_no_byte_of_the_file_is_416(
    client: Client, media_path: str, header: str
) -> None:
    for method in ("GET", "HEAD"):
        answer = await client.request(method, media_path, headers={"Range": header})
        assert answer.status_code == 416, (method, header[:40])
        assert answer.headers["content-range"] == f"bytes */{SIZE}"
    body = (await client.get(media_path, headers={"Range": header})).json()
    assert body["error"] is True
    assert body["code"] == 416


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-2",  # last before first: not a range
        "bytes=0-1,3-4",  # several: the whole file, as RFC 9110 allows
        "bytes=١-٢",
        "bytes=²-",
        "bytes=0x10-",
        "bytes=-",
        "bytes=--1",
        "items=0-1",
        "bytes=1-2-3",
    ],
)
async def test_a_range_the_server_cannot_read_is_ignored(
    client: Client, media_path: str, header: str
) -> None:
    answer = await client.get(media_path, headers={b"Range": header.encode()})
    assert answer.status_code == 200, header[:40]
    assert answer.content == CONTENT
    assert "content-range" not in answer.headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE),
        ("bytes=-1", SIZE - 1, SIZE),
        ("bytes=10-" + "9" * 5000, 10, SIZE),  # a last byte beyond the end stops at the end
        ("bytes=1-" + "9" * 30, 1, SIZE),
    ],
)
async def test_ranges_at_the_edges_of_the_file_are_served(
    client: Client, media_path: str, header: str, start: int, end: int
) -> None:
    answer = await client.get(media_path, headers={"Range": header})
    assert answer.status_code == 206, header[:40]
    assert answer.content == CONTENT[start:end]
    assert answer.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"


@pytest.mark.parametrize("header", ["bytes=-" + "9" * 5000, f"bytes=-{SIZE}", "bytes=0-"])
async def test_a_range_that_covers_the_whole_file_is_the_whole_file(
    client: Client, media_path: str, header: str
) -> None:
    answer = await client.get(media_path, headers={"Range": header})
    assert answer.status_code == 200, header[:40]
    assert answer.content == CONTENT


async def test_ranges_of_an_empty_file(runtime: Runtime, client: Client, tmp_path: Path) -> None:
    path = stored(runtime, tmp_path, b"", "b")
    for header in ("bytes=0-0", "bytes=0-", "bytes=-0"):
        answer = await client.get(path, headers={"Range": header})
        assert answer.status_code == 416, header
        assert answer.headers["content-range"] == "bytes */0"
    for header in ("bytes=-5", "bytes=3-1"):
        answer = await client.get(path, headers={"Range": header})
        assert (answer.status_code, answer.content) == (200, b""), header


@pytest.mark.parametrize(
    "expires", ["9" * 5000, "²", "%C2%B2", "%D9%A1%D9%A2", "%EF%BC%91", "-1", "1e9", ""]
)
async def test_an_expiry_that_is_not_a_plain_number_is_403(
    client: Client, media_path: str, expires: str
) -> None:
    path, query = media_path.split("?")
    signature = query.split("signature=")[1]
    answer = await client.get(f"{path}?expires={expires}&signature={signature}")
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == 403
