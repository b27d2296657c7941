"""/docs renders in a real browser that can reach nothing but the server: every operation of
the document appears on the page, drawn by the Swagger UI the package ships."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.commands import serving

# Every address but the server's goes to a proxy that does not exist: a script or style
# fetched from anywhere else fails to load.
NO_NETWORK = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]


def test_the_docs_render_every_operation_with_no_network(tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail(
            "chromium is missing: install Debian's package with `apt-get install -y chromium`"
        )
    with serving(tmp_path / "home", tmp_path) as base:
        paths = set(httpx.get(f"{base}/openapi.json").json()["paths"])
        rendered = subprocess.run(  # noqa: S603
            [browser, "--headless", "--no-sandbox", "--disable-gpu", *NO_NETWORK,
             "--virtual-time-budget=10000", "--dump-dom", f"{base}/docs"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    dom = rendered.stdout
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    # The page as served holds no operation: these are drawn by the bundled script.
    assert set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom)) == paths
    assert "OAS 3.1" in dom
