"""A deterministic, realistic collection book: French debtors, their debts and every attempt
made to collect them, as a collection platform would have logged them.

Each debt follows a reminder plan (email, SMS, AI calls with retries, WhatsApp, voicemail,
letter, a human call, a visit) that stops once the debtor pays; steps that fall after the
anchor are scheduled, and outcomes always fit the channel (an SMS is delivered or fails, it
never finds a deal; an AI call that reached the debtor and delivered its reminder is
`delivered`), and so do their summaries (`outcomes.TEXTS`). Recorded calls last exactly as long
as the recording they carry (`media.RECORDING_SECONDS`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from relance.debts.records import DebtRecord
from relance.demo.media import LETTER_FILE, recording_file
from relance.demo.outcomes import (
    CALLS,
    DELIVERED_CALL_ENDS,
    DISCONNECTIONS,
    FAILED_DELIVERY,
    LETTERS,
    OUTCOMES,
    PLAN,
    RECORDED_SECONDS,
    TEXTS,
)
from relance.demo.people import CITIES, COMPANIES, FIRST_NAMES, LAST_NAMES, OBJECTS, STREETS
from relance.followups.enums import ANSWERED, tallies
from relance.followups.enums import FollowupStatus as S
from relance.followups.enums import FollowupType as T
from relance.followups.records import FollowupRecord


@dataclass
class DemoFollowup:
    values: FollowupRecord
    # The demo file (media.demo_files) this followup's recording or document is.
    media: str | None = None


@dataclass
class DemoDebt:
    values: DebtRecord
    # The number the platform calls and texts this debtor from.
    platform_number: str
    followups: list[DemoFollowup] = field(default_factory=list)


@dataclass
class DemoCompany:
    name: str
    debts: list[DemoDebt]


def build_book(anchor: datetime, seed: int = 2024) -> list[DemoCompany]:
    rng = random.Random(seed)
    book = []
    for name, size in COMPANIES:
        debts = [_debt(rng, anchor, name, index) for index in range(size)]
        _add_live_call(rng, anchor, debts)
        book.append(DemoCompany(name, debts))
    return book


def _pick(rng: random.Random, weighted: tuple[tuple[S, int], ...]) -> S:
    return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]


def _debt(rng: random.Random, anchor: datetime, company: str, index: int) -> DemoDebt:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    start = anchor - timedelta(days=rng.randint(-10, 150), hours=rng.randint(0, 23))
    postal_code, city = rng.choice(CITIES)
    amount = Decimal(round(rng.lognormvariate(5.3, 0.9), 2)).quantize(Decimal("0.01"))
    invoice_date = start.date() - timedelta(days=rng.randint(30, 90))
    debt = DemoDebt(
        platform_number=f"+339{rng.randint(70_000_000, 79_999_999)}",
        values=DebtRecord(
            civility="Mme" if first[-1] in "aeé" else "M.",
            firstname=first,
            lastname=last,
            phone=f"+336{rng.randint(10_000_000, 99_999_999)}",
            email=_email(first, last, rng),
            amount=max(amount, Decimal("15.00")),
            currency="EUR",
            object=OBJECTS[company],
            internal_id=f"CLI-{index + 1:05d}",
            invoice_reference=f"FAC-{invoice_date.year}-{rng.randint(1000, 99999):05d}",
            debtor_reference=f"DEB-{rng.randint(100000, 999999)}",
            invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=30),
            street_address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
            postal_code=postal_code,
            city=city,
            country="FR",
            status="status.default.pending",
        ),
    )
    debt.followups = _timeline(rng, anchor, start, debt.platform_number)
    _settle(debt)
    return debt


def _email(first: str, last: str, rng: random.Random) -> str:
    plain = (first + "." + last).lower()
    for accented, bare in zip("éèëêàâïîôöüûç", "eeeeaaiioouuc", strict=True):
        plain = plain.replace(accented, bare)
    return f"{plain}@{rng.choice(('gmail.com', 'orange.fr', 'free.fr', 'laposte.net'))}"


def _timeline(
    rng: random.Random, anchor: datetime, start: datetime, number: str
) -> list[DemoFollowup]:
    followups: list[DemoFollowup] = []
    # A few debtors dispute the debt: collection pauses after some steps.
    hold_after = rng.randint(2, 6) if rng.random() < 0.06 else len(PLAN)
    last_call = S.NO_ANSWER
    for step, (offset, kind, retry) in enumerate(PLAN):
        if retry and last_call != S.NO_ANSWER:
            continue
        if rng.random() < 0.15 and not retry:
            continue  # plans vary: not every debt gets every step
        planned = _business_hours(rng, start + timedelta(days=offset + rng.randint(0, 1)))
        if followups and planned <= _moment(followups[-1]):
            # A step pushed past a Sunday may land before the next one: keep the plan's order.
            planned = _business_hours(rng, _moment(followups[-1]) + timedelta(days=1))
        if planned > anchor + timedelta(days=14):
            break
        if planned > anchor or step >= hold_after:
            status = S.SCHEDULED if planned > anchor else S.ON_HOLD
            followups.append(_planned(rng, anchor, planned, kind, status, retry))
            break
        followup = _executed(rng, anchor, planned, kind, retry, number)
        followups.append(followup)
        if kind in CALLS:
            last_call = S(followup.values.status)
        if followup.values.triggered_payment and followup.values.processed_at is not None:
            _cancel_next(rng, followups, followup.values.processed_at, anchor)
            break
    return followups


def _moment(followup: DemoFollowup) -> datetime:
    moment = followup.values.call_date or followup.values.scheduled_at
    assert moment is not None, "the book schedules every followup"
    return moment


def _business_hours(rng: random.Random, moment: datetime) -> datetime:
    while moment.weekday() == 6:
        moment += timedelta(days=1)
    return moment.replace(hour=rng.randint(7, 17), minute=rng.randint(0, 59), second=0)


def _cancel_next(
    rng: random.Random, followups: list[DemoFollowup], paid: datetime, anchor: datetime
) -> None:
    """A payment cancels the step that was already planned next, soon after it is recorded."""
    planned = paid + timedelta(days=3)
    if planned <= anchor + timedelta(days=14) and rng.random() < 0.6:
        cancelled = _planned(rng, anchor, planned, T.CALL, S.CANCELLED, False)
        cancelled.values.processed_at = min(paid + timedelta(minutes=rng.randint(5, 90)), anchor)
        followups.append(cancelled)


def _blank(kind: T, status: S, retry: bool) -> FollowupRecord:
    return FollowupRecord(status=status.value, type=kind.value, is_retry=retry)


def _planned(
    rng: random.Random, anchor: datetime, planned: datetime, kind: T, status: S, retry: bool
) -> DemoFollowup:
    values = _blank(kind, status, retry)
    values.scheduled_at = planned
    values.processed_at = min(planned - timedelta(days=rng.randint(1, 5)), anchor)
    _describe(rng, values)
    return DemoFollowup(values)


def _executed(
    rng: random.Random, anchor: datetime, planned: datetime, kind: T, retry: bool, number: str
) -> DemoFollowup:
    in_progress = kind == T.CALL and anchor - planned < timedelta(hours=1)
    status = S.IN_PROGRESS if in_progress else _pick(rng, OUTCOMES[kind])
    followup = DemoFollowup(_blank(kind, status, retry))
    values = followup.values
    executed = min(planned + timedelta(seconds=rng.randint(0, 600)), anchor)
    values.scheduled_at = planned
    values.call_date = executed
    values.processed_at = min(executed + timedelta(minutes=rng.randint(1, 15)), anchor)
    values.triggered_payment = status == S.DEAL_FOUND and rng.random() < 0.75
    if kind in (*CALLS, T.VOICEMAIL):
        _call_details(rng, followup, kind, status, number)
    elif kind in (T.SMS, T.WHATSAPP):
        values.phone_number_used = number
    if kind == T.EMAIL and status != S.FAILED:
        _email_tracking(rng, values, executed, anchor)
    if status == S.FAILED and kind in FAILED_DELIVERY:
        values.disconnection_reason = rng.choice(FAILED_DELIVERY[kind])
    if (kind, S(values.status)) in LETTERS:
        followup.media = LETTER_FILE
    _describe(rng, values)
    return followup


def _describe(rng: random.Random, values: FollowupRecord) -> None:
    """The summary and notes of the followup's final status (an opened email was delivered)."""
    texts = TEXTS[T(values.type)].get(S(values.status))
    if texts:
        values.summary, values.notes = rng.choice(texts)


def _add_live_call(rng: random.Random, anchor: datetime, debts: list[DemoDebt]) -> None:
    """A call the AI agent is making right now to a debtor who has not paid yet, so that every
    company shows one in progress."""
    debt = next(d for d in debts if d.values.status == "status.default.in_progress")
    debt.followups.append(_live_call(rng, anchor, debt.platform_number))
    _settle(debt)


def _live_call(rng: random.Random, anchor: datetime, number: str) -> DemoFollowup:
    followup = DemoFollowup(_blank(T.CALL, S.IN_PROGRESS, False))
    values = followup.values
    values.scheduled_at = values.call_date = anchor - timedelta(minutes=rng.randint(1, 4))
    values.processed_at = anchor
    _call_details(rng, followup, T.CALL, S.IN_PROGRESS, number)
    return followup


def _call_details(
    rng: random.Random, followup: DemoFollowup, kind: T, status: S, number: str
) -> None:
    values = followup.values
    inbound = kind != T.VOICEMAIL and status in ANSWERED and rng.random() < 0.08
    values.direction = "inbound" if inbound else "outbound"
    values.phone_number_used = number
    if kind != T.MANUAL_CALL:
        values.call_id = f"call_{rng.getrandbits(48):012x}"
    if status == S.IN_PROGRESS:
        return
    recorded = RECORDED_SECONDS.get((kind, status))
    if recorded:
        seconds = rng.choice(recorded)
        values.duration_ms = seconds * 1000
        followup.media = recording_file(seconds)
    if kind == T.VOICEMAIL:
        values.disconnection_reason = (
            "voicemail_reached" if status == S.DELIVERED else "dial_failed"
        )
        if not recorded:
            values.duration_ms = rng.randint(0, 8_000)  # rang, then the drop failed
        return
    if status == S.DELIVERED:
        values.disconnection_reason = rng.choice(DELIVERED_CALL_ENDS)
    else:
        values.disconnection_reason = rng.choice(DISCONNECTIONS[status])
    if not recorded:
        # A human call is not recorded and may run long; one that reached nobody, a ring.
        reached = status in ANSWERED
        values.duration_ms = rng.randint(45_000, 540_000) if reached else rng.randint(0, 30_000)


def _email_tracking(
    rng: random.Random, values: FollowupRecord, sent: datetime, anchor: datetime
) -> None:
    if rng.random() >= 0.45:
        return
    first_open = sent + timedelta(minutes=rng.randint(3, 2_000))
    if first_open > anchor:
        return
    values.email_opened = True
    values.status = S.DELIVERED.value  # an opened email was delivered, whatever was reported
    values.email_open_count = rng.randint(1, 6)
    values.email_first_opened_at = first_open
    if rng.random() < 0.35:
        values.email_clicked = True
        values.email_click_count = rng.randint(1, values.email_open_count)
        values.triggered_payment = rng.random() < 0.3


def _settle(debt: DemoDebt) -> None:
    statuses = [S(f.values.status) for f in debt.followups]
    paid = any(f.values.triggered_payment for f in debt.followups)
    on_hold = S.ON_HOLD in statuses
    debt.values.status = "status.default." + (
        "paid" if paid else "on_hold" if on_hold else "in_progress" if statuses else "pending"
    )
    counts = [tallies(s) for s in statuses]
    debt.values.followups_count = len(counts)
    debt.values.nb_reminders = sum(c[1] for c in counts)
    debt.values.nb_answered = sum(c[2] for c in counts)
