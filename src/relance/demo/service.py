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
from relance.companies import repository as companies
from relance.db import Connection
from relance.debts.repository import insert_debt
from relance.demo import media
from relance.demo.book import COMPANIES, DemoCompany, build_book
from relance.followups.repository import insert_followups
from relance.kit.ids import Resource
from relance.kit.time import utc_now
from relance.media.kinds import MediaKind
from relance.media.service import check_file, store_new
from relance.runtime import Runtime


@dataclass(frozen=True, slots=True)
class DemoAccess:
    id: str
    name: str
    client_id: str
    client_secret: str


class DemoConflict(RuntimeError):
    pass


async def load_demo(runtime: Runtime, anchor: datetime | None = None) -> list[DemoAccess]:
    """The demo companies with one all-scopes client each, loading the book if it is not there."""
    async with runtime.db.transaction() as conn:
        found = [await companies.find_company_by_name(conn, name) for name, _ in COMPANIES]
        if not any(found):
            book = build_book(anchor or utc_now())
            await _attach_media(runtime, book)
            found = [await _insert_company(conn, company) for company in book]
        elif not all(found):
            raise DemoConflict(
                "this database holds some demo companies but not all of them; "
                "use a fresh RELANCE_DATA_DIR for the demo"
            )
        return [
            await _access(conn, runtime, company_id, name)
            for company_id, (name, _) in zip(found, COMPANIES, strict=True)
            if company_id is not None
        ]


# The calls that reached someone or a voicemail have a recording; the letters sent, a PDF.
_RECORDED = {"call", "voicemail"}
_RECORDED_OUTCOMES = {"deal_found", "deal_not_found", "bad_behavior", "delivered"}
_LETTERS = {"postmail"}
_LETTER_OUTCOMES = {"sent", "delivered"}


async def _attach_media(runtime: Runtime, book: list[DemoCompany]) -> None:
    """Store a few real recordings and a letter, generated here, and point the demo's
    answered calls, voicemails and letters at them (shared: the demo needs playable media,
    not a file per followup)."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        made = [(f"recording-{n}.wav", media.recording(seconds=4.0, seed=n)) for n in (1, 2, 3)]
        made.append(("letter.pdf", media.letter(LETTER_TITLE, LETTER_LINES)))
        stored = []
        for name, content in made:
            (folder / name).write_bytes(content)
            kind = MediaKind.PDF if name.endswith(".pdf") else MediaKind.AUDIO
            checked = check_file(folder / name, kind, runtime.settings.media_max_bytes)
            assert not isinstance(checked, str), checked  # made here, so always accepted
            stored.append(await store_new(runtime.media, checked))
    recordings, letter = stored[:-1], stored[-1]
    n = 0
    for company in book:
        for debt in company.debts:
            for followup in debt.followups:
                values = followup.values
                if values["type"] in _RECORDED and values["status"] in _RECORDED_OUTCOMES:
                    values["audio_url"] = recordings[n % len(recordings)]
                    n += 1
                elif values["type"] in _LETTERS and values["status"] in _LETTER_OUTCOMES:
                    values["pdf_url"] = letter


LETTER_TITLE = "Mise en demeure de payer"
LETTER_LINES = [
    "Madame, Monsieur,",
    "",
    "Malgre nos precedentes relances, la somme due reste impayee a ce jour.",
    "Nous vous mettons en demeure de la regler sous huit jours a compter de ce courrier.",
    "A defaut, nous serons contraints d'engager une procedure de recouvrement.",
    "",
    "Veuillez agreer, Madame, Monsieur, nos salutations distinguees.",
]


async def _insert_company(conn: Connection, company: DemoCompany) -> int:
    now = utc_now()
    company_id = await companies.insert_company(conn, company.name, now)
    for debt in company.debts:
        debt_id = await insert_debt(conn, company_id, debt.values, now)
        await insert_followups(conn, company_id, debt_id, [f.values for f in debt.followups], now)
    return company_id


async def _access(conn: Connection, runtime: Runtime, company_id: int, name: str) -> DemoAccess:
    client_id = await clients.first_client_of(conn, company_id)
    if client_id is None:
        client = await create_client(
            conn, runtime, company_id, ALL_SCOPES, "demo", reproducible=True
        )
        client_id = client.client_id
    secret = derived_client_secret(runtime.keys.demo_credentials, client_id)
    return DemoAccess(runtime.ids.encode(Resource.COMPANY, company_id), name, client_id, secret)
