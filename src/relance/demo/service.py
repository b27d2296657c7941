"""Loading the demo book, once: a second run finds it and hands back the same credentials."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from relance.auth import repository as clients
from relance.auth.credentials import derived_client_secret
from relance.auth.scopes import ALL_SCOPES
from relance.auth.service import create_client
from relance.changes import repository as changes
from relance.companies import repository as companies
from relance.db import Connection
from relance.debts import parties
from relance.debts.repository import insert_debt
from relance.debts.service import created_events
from relance.demo import media
from relance.demo.book import DemoCompany, build_book
from relance.demo.people import COMPANIES
from relance.events.records import now_us
from relance.followups import events as followup_events
from relance.followups.repository.writes import insert_followups
from relance.followups.service import unsigned_by_key
from relance.kit.time import utc_now
from relance.media.kinds import MediaKind
from relance.media.service import CheckedFile, check_file, store_new
from relance.resources import Resource
from relance.runtime import Deployment
from relance.units import UnitOfWork


@dataclass(frozen=True, slots=True)
class DemoAccess:
    id: str
    name: str
    client_id: str
    client_secret: str


class DemoConflict(RuntimeError):
    pass


async def load_demo(
    deployment: Deployment, unit: UnitOfWork, anchor: datetime | None = None
) -> list[DemoAccess]:
    """The demo companies with one all-scopes client each, loading the book if it is not there,
    in the caller's unit of work."""
    conn = unit.conn
    found = [await companies.find_company_by_name(conn, name) for name, _ in COMPANIES]
    if not any(found):
        book = build_book(anchor or utc_now())
        await _attach_media(deployment, book)
        found = [await _insert_company(conn, deployment, company) for company in book]
    elif not all(found):
        raise DemoConflict(
            "this database holds some demo companies but not all of them; "
            "use a fresh RELANCE_DATA_DIR for the demo"
        )
    return [
        await _access(conn, deployment, company_id, name)
        for company_id, (name, _) in zip(found, COMPANIES, strict=True)
        if company_id is not None
    ]


async def _attach_media(deployment: Deployment, book: list[DemoCompany]) -> None:
    """Store the demo's recordings and letter, generated here, and point the followups the book
    gave one of them at it (shared: the demo needs playable media, not a file per followup)."""
    with tempfile.TemporaryDirectory() as work:
        limit = deployment.settings.media_max_bytes
        stored = {
            name: await store_new(deployment.media, _checked(Path(work) / name, content, limit))
            for name, content in media.demo_files().items()
        }
    for company in book:
        for debt in company.debts:
            for followup in debt.followups:
                if followup.media == media.LETTER_FILE:
                    followup.values.pdf_url = stored[followup.media]
                elif followup.media is not None:
                    followup.values.audio_url = stored[followup.media]


def _checked(path: Path, content: bytes, max_bytes: int) -> CheckedFile:
    path.write_bytes(content)
    kind = MediaKind.PDF if path.suffix == ".pdf" else MediaKind.AUDIO
    checked = check_file(path, kind, max_bytes)
    assert not isinstance(checked, str), checked  # made here, so always accepted
    return checked


async def _insert_company(conn: Connection, deployment: Deployment, company: DemoCompany) -> int:
    now = utc_now()
    company_id = await companies.insert_company(conn, company.name, now)
    debt_ids = []
    await parties.link(conn, company_id, [debt.values for debt in company.debts], now)
    for debt in company.debts:
        debt_id = await insert_debt(conn, company_id, debt.values, now)
        await insert_followups(conn, company_id, debt_id, [f.values for f in debt.followups], now)
        debt_ids.append(debt_id)
    await _record_events(conn, deployment, company_id, debt_ids)
    await changes.record_all(conn, company_id, now_us())
    return company_id


async def _record_events(
    conn: Connection, deployment: Deployment, company_id: int, debt_ids: list[int]
) -> None:
    """The book's events, as its writes through the API would have recorded them: each debt
    created, then each followup."""
    if not deployment.events.enabled:
        return
    ids = deployment.ids
    found = await created_events(conn, ids, company_id, debt_ids)
    for _, view in await unsigned_by_key(conn, ids, company_id, None):
        found += followup_events.created(view)
    await deployment.events.record(conn, company_id, found)


async def _access(
    conn: Connection, deployment: Deployment, company_id: int, name: str
) -> DemoAccess:
    client_id = await clients.first_client_of(conn, company_id)
    if client_id is None:
        client = await create_client(
            conn, deployment.keys, company_id, ALL_SCOPES, "demo", reproducible=True
        )
        client_id = client.client_id
    secret = derived_client_secret(deployment.keys.demo_credentials, client_id)
    return DemoAccess(deployment.ids.encode(Resource.COMPANY, company_id), name, client_id, secret)
