"""Media opened directly in a real browser, as a person clicking a followup's link does: a
recording plays in Chromium's own player page and seeks, and a letter is drawn by Chromium's
PDF viewer. The browser reaches nothing but the server."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.commands import demo_on, free_port, serving, token_of
from tests.media.helpers import API

NO_NETWORK = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]
STEP_TIMEOUT = 30  # seconds for one browser step; a hang fails the test instead of blocking


class Browser:
    """A headless Chromium driven over the DevTools protocol, one websocket for all its tabs."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            answer: dict[str, Any] = json.loads(self._socket.recv(timeout=STEP_TIMEOUT))
            if answer.get("id") != number:
                self.events.append(answer)
            elif "error" in answer:
                pytest.fail(f"{method} failed: {answer['error']}")
            else:
                result: dict[str, Any] = answer["result"]
                return result

    def tab(self) -> Tab:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)
        tab = Tab(self, session["sessionId"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            tab.call(f"{domain}.enable")
        return tab


class Tab:
    def __init__(self, browser: Browser, session: str) -> None:
        self._browser = browser
        self._session = session

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self._browser.call(method, self._session, **params)

    def evaluate(self, script: str) -> Any:
        """The value of SCRIPT (awaited), run as if the person had just clicked the page."""
        answer = self.call(
            "Runtime.evaluate",
            expression=script,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        if "exceptionDetails" in answer:
            pytest.fail(f"the page's script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.evaluate(_UNTIL_LOADED)

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [
            event["params"]
            for event in self._browser.events
            if event.get("sessionId") == self._session and event.get("method") == method
        ]

    def security_messages(self) -> list[str]:
        entries = [params["entry"] for params in self._events("Log.entryAdded")]
        return [entry["text"] for entry in entries if entry["source"] == "security"]

    def statuses_of(self, path: str) -> list[int]:
        """The status of every answer the tab received from PATH."""
        responses = [params["response"] for params in self._events("Network.responseReceived")]
        return [r["status"] for r in responses if urlsplit(r["url"]).path == path]


_UNTIL_LOADED = """new Promise(done => document.readyState === 'complete'
    ? done() : addEventListener('load', () => done()))"""


@contextmanager
def chromium(tmp_path: Path) -> Iterator[Browser]:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail(
            "chromium is missing: install Debian's package with `apt-get install -y chromium`"
        )
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [browser, "--headless", "--no-sandbox", "--disable-gpu", *NO_NETWORK,
         f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'profile'}",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with connect(_debugger_url(port), max_size=None) as socket:
            yield Browser(socket)
    finally:
        process.terminate()
        process.wait(timeout=15)


def _debugger_url(port: int) -> str:
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        try:
            version = httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=1).json()
            url: str = version["webSocketDebuggerUrl"]
            return url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail("chromium did not open its debugging port in time")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def media_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A recording's and a letter's URL as the API hands them out, on a served demo book."""
    tmp_path = tmp_path_factory.mktemp("browser")
    companies = demo_on(tmp_path / "home")
    with serving(tmp_path / "home", tmp_path) as base:
        yield _first_url(base, companies, "audio_url"), _first_url(base, companies, "pdf_url")


def _first_url(base: str, companies: list[dict[str, Any]], field: str) -> str:
    for company in companies:
        headers = {"Authorization": f"Bearer {token_of(base, company)}"}
        for page in itertools.count(1):
            answer = httpx.get(
                f"{base}{API}/followups", headers=headers, params={"limit": 100, "page": page}
            )
            assert answer.status_code == 200, answer.text
            urls = [f[field] for f in answer.json()["data"] if f[field]]
            if urls:
                url: str = urls[0]
                return url
            if page >= answer.json()["pagination"]["pages"]:
                break
    pytest.fail(f"no followup of the demo book has a {field}")


PLAY = """(async () => {
  const player = document.querySelector('video, audio');
  const until = (ready, what) => new Promise((done, fail) => {
    const started = performance.now();
    const check = () => ready() ? done()
      : performance.now() - started > 15000 ? fail(new Error('never ' + what))
      : setTimeout(check, 50);
    check();
  });
  await until(() => player.readyState >= 1 || player.networkState === 3, 'loaded its header');
  if (player.networkState === 3) return {loaded: false};
  await player.play();
  await until(() => player.currentTime > 0, 'advanced');
  const played = player.currentTime;
  const seekable = [...Array(player.seekable.length).keys()].map(
    i => [player.seekable.start(i), player.seekable.end(i)]);
  const target = player.duration - 1;
  const seeked = new Promise(done => player.addEventListener('seeked', done, {once: true}));
  player.currentTime = target;
  await seeked;
  const landed = player.currentTime;
  await until(() => player.currentTime > target, 'played on from where it was sought');
  return {loaded: true, played, duration: player.duration, seekable, target, landed,
          paused: player.paused, error: player.error && player.error.message};
})()"""


def test_a_recording_plays_and_seeks_when_opened_directly(
    tmp_path: Path, media_urls: tuple[str, str]
) -> None:
    audio_url, _ = media_urls
    with chromium(tmp_path) as browser:
        tab = browser.tab()
        tab.open(audio_url)
        state = tab.evaluate(PLAY)
        blocked = tab.security_messages()
    assert state["loaded"], f"the player loaded nothing: {blocked}"
    assert blocked == []
    assert state["played"] > 0
    # The whole recording is seekable only because the answers say they take byte ranges.
    assert state["seekable"] == [[0, state["duration"]]]
    assert state["landed"] == pytest.approx(state["target"], abs=0.1)
    assert (state["paused"], state["error"]) == (False, None)


def test_only_a_recording_may_load_media_and_only_its_own(media_urls: tuple[str, str]) -> None:
    audio_url, pdf_url = media_urls
    whole, part = httpx.get(audio_url), httpx.get(audio_url, headers={"Range": "bytes=10-99"})
    letter = httpx.get(pdf_url)
    assert [whole.status_code, part.status_code, letter.status_code] == [200, 206, 200]
    for answer in (whole, part):
        assert answer.headers["content-type"] == "audio/wav"
        assert answer.headers.get_list("content-security-policy") == [
            "default-src 'none'; media-src 'self'; frame-ancestors 'none'"
        ]
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.headers.get_list("content-security-policy") == [
        "default-src 'none'; frame-ancestors 'none'"
    ]
    for answer in (whole, part, letter):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_a_letter_is_drawn_by_the_pdf_viewer(tmp_path: Path, media_urls: tuple[str, str]) -> None:
    _, pdf_url = media_urls
    with chromium(tmp_path) as browser:
        scratch = browser.tab()
        tab = browser.tab()
        tab.open(pdf_url)
        content_type = tab.evaluate("document.contentType")
        white, dark = _until_drawn(tab, scratch)
        blocked = tab.security_messages()
    assert content_type == "application/pdf"
    assert blocked == []
    # The viewer is dark grey around the page it drew, which is white: a blank tab or a viewer
    # that drew no page has only one of the two.
    assert (white > DRAWN_SHARE, dark > DRAWN_SHARE) == (True, True), (white, dark)


def _until_drawn(tab: Tab, scratch: Tab) -> tuple[float, float]:
    """The shares of TAB's pixels that are white and that are dark, once both are large (or
    after STEP_TIMEOUT). SCRATCH, a blank tab, decodes the screenshots: the PDF's own page may
    load no image."""
    deadline = time.monotonic() + STEP_TIMEOUT
    # Headless Chromium paints only the tab in front.
    tab.call("Page.bringToFront")
    while True:
        shot = tab.call("Page.captureScreenshot", format="png")["data"]
        white, dark = scratch.evaluate(SHARES.replace("PNG", shot))
        if min(white, dark) > DRAWN_SHARE or time.monotonic() > deadline:
            return white, dark
        time.sleep(0.5)


DRAWN_SHARE = 0.1
SHARES = """(async () => {
  const image = new Image();
  image.src = 'data:image/png;base64,PNG';
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let white = 0, dark = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    if (r > 240 && g > 240 && b > 240) white += 1;
    else if (r < 80 && g < 80 && b < 80) dark += 1;
  }
  const all = image.width * image.height;
  return [white / all, dark / all];
})()"""
