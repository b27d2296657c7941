"""What the media tests share: sample files, a followup to attach them to, the CLI run on the
test's own settings, and the API's view of a followup."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

from relance.demo.media import letter, recording
from relance.resources import Resource
from relance.runtime import Runtime
from tests.commands import relance
from tests.conftest import SECRET
from tests.factories import create_debt, create_followup, new_tenant_headers, public_id

Client = AsyncTestClient[Litestar]
API = "/external-api/v1"


def sample_files(directory: Path) -> dict[str, Path]:
    made = {
        "wav": recording(seconds=1.0),
        "pdf": letter("Mise en demeure", ["Madame, Monsieur,"]),
        "txt": b"not a recording at all",
    }
    paths = {}
    for name, content in made.items():
        paths[name] = directory / f"sample.{name}"
        paths[name].write_bytes(content)
    return paths


def cli_settings(runtime: Runtime) -> dict[str, str]:
    """The environment that gives the CLI the settings of the test's runtime."""
    settings = runtime.settings
    database = settings.database
    env = {
        "RELANCE_DATABASE_URL": database.sqlalchemy_url
        if database.dialect == "sqlite"
        else str(settings.database_url),
        "RELANCE_SECRET_KEY": SECRET,
        "RELANCE_PUBLIC_URL": "https://relance.example",
        "RELANCE_MEDIA_BACKEND": settings.media_backend,
        "RELANCE_MEDIA_MAX_BYTES": str(settings.media_max_bytes),
    }
    for name in ("s3_bucket", "s3_endpoint_url", "s3_region"):
        value = getattr(settings, name)
        if value is not None:
            env[f"RELANCE_{name.upper()}"] = value
    return env


async def attach(
    runtime: Runtime, followup: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """`relance media attach` as a subprocess."""
    return await asyncio.to_thread(
        relance,
        "media",
        "attach",
        followup,
        *options,
        data_dir=runtime.settings.data_dir,
        env=cli_settings(runtime),
    )


async def import_followups(runtime: Runtime, book: Path) -> subprocess.CompletedProcess[str]:
    """`relance import followups BOOK --json` for the newest company, as a subprocess."""
    company_id = await runtime.db.fetchval("SELECT id FROM companies ORDER BY id DESC LIMIT 1")
    return await asyncio.to_thread(
        relance,
        "import",
        "followups",
        str(book),
        "--company",
        public_id(runtime, Resource.COMPANY, company_id),
        "--json",
        data_dir=runtime.settings.data_dir,
        env=cli_settings(runtime),
    )


async def debt_of(client: Client, headers: dict[str, str], followup: str) -> str:
    shown = await client.get(f"{API}/followups/{followup}", headers=headers)
    debt: str = shown.json()["data"]["debt_id"]
    return debt


async def new_followup(
    runtime: Runtime, client: Client, **values: Any
) -> tuple[str, dict[str, str]]:
    company_id, headers = await new_tenant_headers(runtime, client)
    debt_id = await create_debt(runtime, company_id)
    key = await create_followup(runtime, company_id, debt_id, **values)
    return public_id(runtime, Resource.FOLLOWUP, key), headers


async def shown(client: Client, headers: dict[str, str], followup: str) -> dict[str, Any]:
    response = await client.get(f"{API}/followups/{followup}", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
