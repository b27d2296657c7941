"""A deterministic, realistic collection book: French debtors, their debts and every attempt
made to collect them, as a collection platform would have logged them.

Each debt follows a reminder plan (email, SMS, AI calls with retries, WhatsApp, voicemail,
letter, a human call, a visit) that stops once the debtor pays; steps that fall after the
anchor are scheduled, and outcomes always fit the channel (an SMS is delivered or fails, it
never finds a deal; an AI call that reached the debtor and delivered its reminder is
`delivered`), and so do their summaries (`TEXTS`). Recorded calls last exactly as long as the
recording they carry (`media.RECORDING_SECONDS`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from relance.demo.media import LETTER_FILE, recording_file
from relance.followups.enums import ANSWERED, tallies
from relance.followups.enums import FollowupStatus as S
from relance.followups.enums import FollowupType as T

COMPANIES: tuple[tuple[str, int], ...] = (
    ("Énergie Verte Distribution", 220),
    ("Clinique Saint-Roch", 110),
    ("Boulangerie Martin SARL", 30),
)

FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Jade",
    "Louise",
    "Emma",
    "Zoé",
    "Juliette",
    "Lucie",
    "Margaux",
    "Anaïs",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Nathan",
    "Théo",
    "Raphaël",
    "Paul",
    "Antoine",
    "Mathis",
    "Maxime",
    "Thomas",
    "Nicolas",
    "Julien",
    "Céline",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Philippe",
    "Pascal",
    "Éric",
    "Stéphane",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
]
STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "rue Pasteur",
    "place de la Mairie",
    "rue du Moulin",
    "avenue de la Gare",
    "rue des Écoles",
    "chemin des Vignes",
]
CITIES = (
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("31000", "Toulouse"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("35000", "Rennes"),
    ("34000", "Montpellier"),
)
OBJECTS = {
    "Énergie Verte Distribution": "Facture d'électricité impayée",
    "Clinique Saint-Roch": "Reste à charge après hospitalisation",
    "Boulangerie Martin SARL": "Commande traiteur impayée",
}
# (day offset from the debt's start, channel, retry of the previous call)
PLAN: tuple[tuple[int, T, bool], ...] = (
    (0, T.EMAIL, False),
    (3, T.SMS, False),
    (6, T.CALL, False),
    (8, T.CALL, True),
    (11, T.WHATSAPP, False),
    (14, T.VOICEMAIL, False),
    (18, T.EMAIL, False),
    (24, T.POSTMAIL, False),
    (31, T.MANUAL_CALL, False),
    (38, T.CALL, False),
    (52, T.PHYSICAL, False),
)
# Human calls (and the benchmark's calls): a person either talks with the agent or does not.
CALL_OUTCOMES = (
    (S.NO_ANSWER, 40),
    (S.DEAL_FOUND, 20),
    (S.DEAL_NOT_FOUND, 22),
    (S.BAD_BEHAVIOR, 5),
    (S.FAILED, 8),
)
# The AI agent's calls also end `delivered`: the debtor picked up and heard the reminder (amount,
# due date, payment link) without negotiating.
AI_CALL_OUTCOMES = (
    (S.NO_ANSWER, 34),
    (S.DELIVERED, 18),
    (S.DEAL_FOUND, 17),
    (S.DEAL_NOT_FOUND, 19),
    (S.BAD_BEHAVIOR, 4),
    (S.FAILED, 8),
)
VISIT_OUTCOMES = (
    (S.NO_ANSWER, 35),
    (S.DEAL_FOUND, 30),
    (S.DEAL_NOT_FOUND, 30),
    (S.BAD_BEHAVIOR, 5),
)
MESSAGE_OUTCOMES = {
    T.EMAIL: ((S.DELIVERED, 75), (S.SENT, 15), (S.FAILED, 10)),
    T.SMS: ((S.DELIVERED, 82), (S.SENT, 10), (S.FAILED, 8)),
    T.WHATSAPP: ((S.DELIVERED, 70), (S.SENT, 20), (S.FAILED, 10)),
    T.VOICEMAIL: ((S.DELIVERED, 85), (S.FAILED, 15)),
    T.POSTMAIL: ((S.DELIVERED, 60), (S.SENT, 37), (S.FAILED, 3)),
}
OUTCOMES = {
    T.CALL: AI_CALL_OUTCOMES,
    T.MANUAL_CALL: CALL_OUTCOMES,
    T.PHYSICAL: VISIT_OUTCOMES,
    **MESSAGE_OUTCOMES,
}

Text = tuple[str, str | None]  # a summary and the notes that go with it
_PAYMENT_PLAN = "Three monthly instalments, the first one next month"
_DISPUTE = "Debtor disputes part of the invoice; send the detailed statement"
_FLAG = "Flag the file for a human agent before any new call"
_CONVERSATION: dict[S, tuple[Text, ...]] = {
    S.DEAL_FOUND: (
        ("Successfully contacted debtor", "Customer agreed to payment plan starting next month"),
        ("Debtor agreed to pay in full", "Debtor will pay through the payment link this week"),
        ("Payment plan agreed", _PAYMENT_PLAN),
    ),
    S.DEAL_NOT_FOUND: (
        ("Debtor contests the amount", _DISPUTE),
        ("Debtor cannot pay for now", "Debtor is out of work; call back in a month"),
        ("Debtor asked to be called back later", "Debtor was busy; call back in the evening"),
    ),
    S.NO_ANSWER: (
        ("No answer", None),
        ("Debtor did not pick up", None),
        ("The line rang out", None),
    ),
    S.BAD_BEHAVIOR: (
        ("Debtor was aggressive and hung up", _FLAG),
        ("Debtor insulted the agent", _FLAG),
    ),
    S.FAILED: (
        ("Call could not be placed", None),
        ("Call dropped before connecting", None),
    ),
}
_AI_CALL: dict[S, tuple[Text, ...]] = {
    **_CONVERSATION,
    S.DELIVERED: (
        ("Reminder delivered; the debtor listened to the end", None),
        ("Reminder delivered and the payment link sent", None),
        ("Debtor heard the reminder and asked for the payment link", None),
    ),
}
_VISIT: dict[S, tuple[Text, ...]] = {
    S.DEAL_FOUND: (
        ("Met the debtor, who agreed to pay in full", "Debtor will pay through the payment link"),
        ("Payment plan agreed on the doorstep", _PAYMENT_PLAN),
    ),
    S.DEAL_NOT_FOUND: (
        ("Met the debtor, who contests the amount", _DISPUTE),
        ("Met the debtor, who cannot pay for now", "Debtor is out of work; visit again in a month"),
    ),
    S.NO_ANSWER: (
        ("Nobody at the address", "Notice of visit left in the letterbox"),
        ("Nobody answered the door", None),
    ),
    S.BAD_BEHAVIOR: (
        (
            "Debtor refused to talk and shut the door",
            "Hand the file to the legal team before any new visit",
        ),
    ),
}
_MESSAGES: dict[T, dict[S, tuple[Text, ...]]] = {
    T.EMAIL: {
        S.DELIVERED: (("Reminder email delivered", None),),
        S.SENT: (("Reminder email sent; no delivery receipt yet", None),),
        S.FAILED: (("Reminder email bounced", None),),
    },
    T.SMS: {
        S.DELIVERED: (("Payment reminder SMS delivered", None),),
        S.SENT: (("SMS sent; no delivery receipt yet", None),),
        S.FAILED: (("SMS could not be delivered", None),),
    },
    T.WHATSAPP: {
        S.DELIVERED: (("WhatsApp reminder delivered", None),),
        S.SENT: (("WhatsApp reminder sent, not yet delivered", None),),
        S.FAILED: (("WhatsApp reminder could not be delivered", None),),
    },
    T.VOICEMAIL: {
        S.DELIVERED: (("Reminder left on the debtor's voicemail", None),),
        S.FAILED: (("Voicemail drop failed", None),),
    },
    T.POSTMAIL: {
        S.DELIVERED: (("Formal notice delivered by post", None),),
        S.SENT: (("Formal notice posted", None),),
        S.FAILED: (("Letter returned to sender", None),),
    },
}
_NOT_CARRIED_OUT: dict[S, tuple[Text, ...]] = {
    S.CANCELLED: (("Cancelled: the debt was paid", None),),
    S.ON_HOLD: (("On hold while the debtor's dispute is reviewed", None),),
}
# Every summary a followup of a type and status may carry, with its notes; a status missing
# from its type's table (scheduled, in progress) has no summary yet.
TEXTS: dict[T, dict[S, tuple[Text, ...]]] = {
    T.CALL: {**_AI_CALL, **_NOT_CARRIED_OUT},
    T.MANUAL_CALL: {**_CONVERSATION, **_NOT_CARRIED_OUT},
    T.PHYSICAL: {**_VISIT, **_NOT_CARRIED_OUT},
    **{kind: {**table, **_NOT_CARRIED_OUT} for kind, table in _MESSAGES.items()},
}
# The summaries of calls by outcome, for bench/generate.py.
SUMMARIES = {
    status: tuple(summary for summary, _ in texts) for status, texts in _CONVERSATION.items()
}
DISCONNECTIONS = {
    S.DEAL_FOUND: ("completed_successfully", "agent_hangup"),
    S.DEAL_NOT_FOUND: ("completed_successfully", "user_hangup"),
    S.NO_ANSWER: ("dial_no_answer", "dial_busy", "voicemail_reached"),
    S.BAD_BEHAVIOR: ("user_hangup",),
    S.FAILED: ("dial_failed", "invalid_destination", "error_llm_websocket_open"),
}
DELIVERED_CALL_ENDS = ("completed_successfully", "user_hangup")
FAILED_DELIVERY = {
    T.EMAIL: ("hard_bounce", "invalid_destination"),
    T.SMS: ("invalid_destination", "carrier_rejected"),
    T.WHATSAPP: ("invalid_destination", "not_on_whatsapp"),
    T.POSTMAIL: ("address_unknown", "refused_by_recipient"),
}
CALLS = {T.CALL, T.MANUAL_CALL}
# How long, in seconds, the recorded followups last: each length is one of the demo's
# recordings (human calls are not recorded, and a call that reached nobody has no recording).
RECORDED_SECONDS: dict[tuple[T, S], tuple[int, ...]] = {
    (T.CALL, S.DELIVERED): (16, 22, 27),
    (T.CALL, S.DEAL_FOUND): (27, 33, 40),
    (T.CALL, S.DEAL_NOT_FOUND): (22, 33, 40),
    (T.CALL, S.BAD_BEHAVIOR): (11, 16),
    (T.VOICEMAIL, S.DELIVERED): (11, 16, 22),
}
# Letters that went out carry the notice as a PDF.
LETTERS = {(T.POSTMAIL, S.SENT), (T.POSTMAIL, S.DELIVERED)}


@dataclass
class DemoFollowup:
    values: dict[str, Any]
    # The demo file (media.demo_files) this followup's recording or document is.
    media: str | None = None


@dataclass
class DemoDebt:
    values: dict[str, Any]
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
        values={
            "civility": "Mme" if first[-1] in "aeé" else "M.",
            "firstname": first,
            "lastname": last,
            "phone": f"+336{rng.randint(10_000_000, 99_999_999)}",
            "email": _email(first, last, rng),
            "amount": max(amount, Decimal("15.00")),
            "currency": "EUR",
            "object": OBJECTS[company],
            "internal_id": f"CLI-{index + 1:05d}",
            "invoice_reference": f"FAC-{invoice_date.year}-{rng.randint(1000, 99999):05d}",
            "debtor_reference": f"DEB-{rng.randint(100000, 999999)}",
            "invoice_date": invoice_date,
            "due_date": invoice_date + timedelta(days=30),
            "street_address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
        },
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
            last_call = followup.values["status"]
        if followup.values["triggered_payment"]:
            _cancel_next(rng, followups, followup.values["processed_at"], anchor)
            break
    return followups


def _moment(followup: DemoFollowup) -> datetime:
    moment: datetime = followup.values["call_date"] or followup.values["scheduled_at"]
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
        cancelled.values["processed_at"] = min(paid + timedelta(minutes=rng.randint(5, 90)), anchor)
        followups.append(cancelled)


def _blank(kind: T, status: S, retry: bool) -> dict[str, Any]:
    return {
        "status": status.value,
        "type": kind.value,
        "call_date": None,
        "scheduled_at": None,
        "summary": None,
        "notes": None,
        "call_id": None,
        "audio_url": None,
        "pdf_url": None,
        "duration_ms": None,
        "disconnection_reason": None,
        "direction": None,
        "phone_number_used": None,
        "is_retry": retry,
        "processed_at": None,
        "triggered_payment": False,
        "email_opened": False,
        "email_clicked": False,
        "email_open_count": 0,
        "email_click_count": 0,
        "email_first_opened_at": None,
    }


def _planned(
    rng: random.Random, anchor: datetime, planned: datetime, kind: T, status: S, retry: bool
) -> DemoFollowup:
    values = _blank(kind, status, retry)
    values["scheduled_at"] = planned
    values["processed_at"] = min(planned - timedelta(days=rng.randint(1, 5)), anchor)
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
    values["scheduled_at"] = planned
    values["call_date"] = executed
    values["processed_at"] = min(executed + timedelta(minutes=rng.randint(1, 15)), anchor)
    values["triggered_payment"] = status == S.DEAL_FOUND and rng.random() < 0.75
    if kind in (*CALLS, T.VOICEMAIL):
        _call_details(rng, followup, kind, status, number)
    elif kind in (T.SMS, T.WHATSAPP):
        values["phone_number_used"] = number
    if kind == T.EMAIL and status != S.FAILED:
        _email_tracking(rng, values, executed, anchor)
    if status == S.FAILED and kind in FAILED_DELIVERY:
        values["disconnection_reason"] = rng.choice(FAILED_DELIVERY[kind])
    if (kind, S(values["status"])) in LETTERS:
        followup.media = LETTER_FILE
    _describe(rng, values)
    return followup


def _describe(rng: random.Random, values: dict[str, Any]) -> None:
    """The summary and notes of the followup's final status (an opened email was delivered)."""
    texts = TEXTS[T(values["type"])].get(S(values["status"]))
    if texts:
        values["summary"], values["notes"] = rng.choice(texts)


def _add_live_call(rng: random.Random, anchor: datetime, debts: list[DemoDebt]) -> None:
    """A call the AI agent is making right now to a debtor who has not paid yet, so that every
    company shows one in progress."""
    debt = next(d for d in debts if d.values["status"] == "status.default.in_progress")
    debt.followups.append(_live_call(rng, anchor, debt.platform_number))
    _settle(debt)


def _live_call(rng: random.Random, anchor: datetime, number: str) -> DemoFollowup:
    followup = DemoFollowup(_blank(T.CALL, S.IN_PROGRESS, False))
    values = followup.values
    values["scheduled_at"] = values["call_date"] = anchor - timedelta(minutes=rng.randint(1, 4))
    values["processed_at"] = anchor
    _call_details(rng, followup, T.CALL, S.IN_PROGRESS, number)
    return followup


def _call_details(
    rng: random.Random, followup: DemoFollowup, kind: T, status: S, number: str
) -> None:
    values = followup.values
    inbound = kind != T.VOICEMAIL and status in ANSWERED and rng.random() < 0.08
    values["direction"] = "inbound" if inbound else "outbound"
    values["phone_number_used"] = number
    if kind != T.MANUAL_CALL:
        values["call_id"] = f"call_{rng.getrandbits(48):012x}"
    if status == S.IN_PROGRESS:
        return
    recorded = RECORDED_SECONDS.get((kind, status))
    if recorded:
        seconds = rng.choice(recorded)
        values["duration_ms"] = seconds * 1000
        followup.media = recording_file(seconds)
    if kind == T.VOICEMAIL:
        values["disconnection_reason"] = (
            "voicemail_reached" if status == S.DELIVERED else "dial_failed"
        )
        if not recorded:
            values["duration_ms"] = rng.randint(0, 8_000)  # rang, then the drop failed
        return
    if status == S.DELIVERED:
        values["disconnection_reason"] = rng.choice(DELIVERED_CALL_ENDS)
    else:
        values["disconnection_reason"] = rng.choice(DISCONNECTIONS[status])
    if not recorded:
        # A human call is not recorded and may run long; one that reached nobody, a ring.
        reached = status in ANSWERED
        values["duration_ms"] = rng.randint(45_000, 540_000) if reached else rng.randint(0, 30_000)


def _email_tracking(
    rng: random.Random, values: dict[str, Any], sent: datetime, anchor: datetime
) -> None:
    if rng.random() >= 0.45:
        return
    first_open = sent + timedelta(minutes=rng.randint(3, 2_000))
    if first_open > anchor:
        return
    values["email_opened"] = True
    values["status"] = S.DELIVERED.value  # an opened email was delivered, whatever was reported
    values["email_open_count"] = rng.randint(1, 6)
    values["email_first_opened_at"] = first_open
    if rng.random() < 0.35:
        values["email_clicked"] = True
        values["email_click_count"] = rng.randint(1, values["email_open_count"])
        values["triggered_payment"] = rng.random() < 0.3


def _settle(debt: DemoDebt) -> None:
    statuses = [S(f.values["status"]) for f in debt.followups]
    paid = any(f.values["triggered_payment"] for f in debt.followups)
    on_hold = S.ON_HOLD in statuses
    debt.values["status"] = "status.default." + (
        "paid" if paid else "on_hold" if on_hold else "in_progress" if statuses else "pending"
    )
    counts = [tallies(s) for s in statuses]
    debt.values["followups_count"] = len(counts)
    debt.values["nb_reminders"] = sum(c[1] for c in counts)
    debt.values["nb_answered"] = sum(c[2] for c in counts)
