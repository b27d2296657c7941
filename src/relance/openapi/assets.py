"""The files of the docs page, shipped in the package so that /docs needs no network."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

SWAGGER_UI_VERSION = "5.32.0"
# What /docs/{asset} serves, with its content type; nothing else of the folder is served.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
}


@cache
def asset(name: str) -> bytes:
    """One of ASSETS, read once."""
    return files("relance.openapi").joinpath("static", name).read_bytes()
