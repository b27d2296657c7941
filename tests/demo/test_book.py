"""The demo book generator: deterministic, big enough, complete, and internally consistent."""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest

from relance.demo.book import DemoCompany, DemoFollowup, build_book
from relance.demo.media import LETTER_FILE, demo_files
from relance.demo.outcomes import TEXTS
from relance.followups.enums import FollowupStatus, FollowupType
from relance.followups.records import FollowupRecord

ANCHOR = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
ANCHORS = [ANCHOR, ANCHOR + timedelta(hours=1)]
SEED = 2024

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGES = {"sms", "whatsapp", "email", "postmail", "voicemail"}
CONVERSATION_OUTCOMES = {"deal_found", "deal_not_found", "no_answer", "bad_behavior", "in_progress"}
EXECUTED = {
    "sent",
    "delivered",
    "deal_found",
    "no_answer",
    "deal_not_found",
    "bad_behavior",
    "failed",
}
NOT_EXECUTED = {"scheduled", "on_hold", "cancelled"}
EMAIL_TRACKING = {
    "email_opened": False,
    "email_clicked": False,
    "email_open_count": 0,
    "email_click_count": 0,
    "email_first_opened_at": None,
}


@pytest.fixture(scope="module", params=ANCHORS, ids=lambda anchor: anchor.isoformat())
def book(request: pytest.FixtureRequest) -> tuple[datetime, list[DemoCompany]]:
    anchor: datetime = request.param
    return anchor, build_book(anchor, SEED)


def followups_of(companies: list[DemoCompany]) -> Iterator[FollowupRecord]:
    for followup in demo_followups(companies):
        yield followup.values


def demo_followups(companies: list[DemoCompany]) -> Iterator[DemoFollowup]:
    for company in companies:
        for debt in company.debts:
            yield from debt.followups


def dated(moment: datetime | None) -> datetime:
    assert moment is not None, "a followup with no moment where the book sets one"
    return moment


def describe(values: FollowupRecord) -> str:
    return (
        f"{values.type}/{values.status} call_date={values.call_date} "
        f"scheduled_at={values.scheduled_at}"
    )


def test_same_anchor_and_seed_give_the_same_book() -> None:
    first = build_book(ANCHOR, SEED)
    second = build_book(ANCHOR, SEED)
    assert first == second, "build_book is not deterministic for a fixed anchor and seed"


def test_the_seed_changes_the_book() -> None:
    assert build_book(ANCHOR, 1) != build_book(ANCHOR, 2), "the seed has no effect on the book"


def test_at_least_three_companies_of_different_sizes(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    sizes = [len(company.debts) for company in companies]
    assert len(companies) >= 3, f"only {len(companies)} companies"
    assert len(set(sizes)) == len(sizes), f"companies share a size: {sizes}"
    names = [company.name for company in companies]
    assert len(set(names)) == len(names), f"duplicate company names: {names}"


def test_a_few_hundred_debts_and_thousands_of_followups(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    debts = sum(len(company.debts) for company in companies)
    followups = sum(1 for _ in followups_of(companies))
    assert 100 <= debts < 1000, f"{debts} debts is not a few hundred"
    assert followups >= 2000, f"only {followups} followups"


def test_every_status_and_every_type_is_present(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    statuses = {values.status for values in followups_of(companies)}
    types = {values.type for values in followups_of(companies)}
    assert statuses == {s.value for s in FollowupStatus}, (
        f"missing statuses: {sorted({s.value for s in FollowupStatus} - statuses)}, "
        f"unknown: {sorted(statuses - {s.value for s in FollowupStatus})}"
    )
    assert types == {t.value for t in FollowupType}, (
        f"missing types: {sorted({t.value for t in FollowupType} - types)}, "
        f"unknown: {sorted(types - {t.value for t in FollowupType})}"
    )


def test_messages_never_have_a_conversation_outcome(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    wrong = [
        describe(values)
        for values in followups_of(companies)
        if values.type in MESSAGES and values.status in CONVERSATION_OUTCOMES
    ]
    assert not wrong, f"{len(wrong)} messages with a conversation outcome, e.g. {wrong[:5]}"


def test_scheduled_followups_are_in_the_future_and_not_executed(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    anchor, companies = book
    scheduled = [v for v in followups_of(companies) if v.status == "scheduled"]
    assert scheduled, "no scheduled followup"
    for values in scheduled:
        assert values.call_date is None, f"scheduled but executed: {describe(values)}"
        assert values.scheduled_at is not None, f"scheduled without a date: {describe(values)}"
        assert values.scheduled_at > anchor, f"scheduled in the past: {describe(values)}"


def test_not_executed_followups_have_no_call_date(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    for values in followups_of(companies):
        if values.status in NOT_EXECUTED:
            assert values.call_date is None, f"never executed but dated: {describe(values)}"


def test_executed_followups_happened_by_the_anchor(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    anchor, companies = book
    executed = [v for v in followups_of(companies) if v.status in EXECUTED]
    assert executed, "no executed followup"
    for values in executed:
        assert values.call_date is not None, f"executed without a date: {describe(values)}"
        assert values.call_date <= anchor, f"executed in the future: {describe(values)}"


def test_in_progress_followups_are_live_calls(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    anchor, companies = book
    live = [v for v in followups_of(companies) if v.status == "in_progress"]
    assert live, "no call in progress"
    for values in live:
        assert values.type in {"call", "manual_call"}, f"not a call: {describe(values)}"
        assert values.call_date is not None, f"not started: {describe(values)}"
        assert anchor - timedelta(hours=1) <= values.call_date <= anchor, (
            f"in progress for over an hour or not yet started: {describe(values)}"
        )
        assert values.duration_ms is None, f"a live call with a duration: {describe(values)}"


def test_processed_at_is_set_and_not_in_the_future(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    anchor, companies = book
    for values in followups_of(companies):
        assert isinstance(values.processed_at, datetime), f"no processed_at: {describe(values)}"
        assert values.processed_at <= anchor, (
            f"processed after the anchor ({values.processed_at}): {describe(values)}"
        )


def test_activity_spans_the_last_five_months_and_the_next_two_weeks(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    anchor, companies = book
    for values in followups_of(companies):
        activity = values.call_date or values.scheduled_at or values.processed_at
        assert activity is not None, f"no activity time: {describe(values)}"
        assert anchor - timedelta(days=153) <= activity <= anchor + timedelta(days=14), (
            f"activity time {activity} out of range: {describe(values)}"
        )


def test_calls_with_a_duration_have_a_direction_and_an_e164_number(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    timed = [v for v in followups_of(companies) if v.duration_ms is not None]
    assert timed, "no followup has a duration"
    for values in timed:
        assert values.type in {"call", "manual_call", "voicemail"}, (
            f"a duration on a non-call: {describe(values)}"
        )
        assert values.duration_ms is not None
        assert values.duration_ms >= 0, f"negative duration: {describe(values)}"
        assert values.direction in {"inbound", "outbound"}, (
            f"direction {values.direction!r}: {describe(values)}"
        )
        number = values.phone_number_used
        assert isinstance(number, str), f"no phone number: {describe(values)}"
        assert E164.match(number), f"{number!r} is not E.164: {describe(values)}"


def test_every_phone_number_is_e164(book: tuple[datetime, list[DemoCompany]]) -> None:
    _, companies = book
    for company in companies:
        for debt in company.debts:
            phone = debt.values.phone
            assert phone is not None, "a debtor with no phone"
            assert E164.match(phone), f"debtor phone {phone!r} is not E.164"
    for values in followups_of(companies):
        number = values.phone_number_used
        if number is not None:
            assert E164.match(number), f"{number!r} is not E.164: {describe(values)}"
        if values.direction is not None:
            assert values.type in {"call", "manual_call", "voicemail"}, (
                f"a direction on a non-call: {describe(values)}"
            )


def test_email_tracking_is_consistent(book: tuple[datetime, list[DemoCompany]]) -> None:
    anchor, companies = book
    opened_somewhere = False
    clicked_somewhere = False
    for values in followups_of(companies):
        opens, clicks = values.email_open_count, values.email_click_count
        assert 0 <= clicks <= opens, f"{clicks} clicks for {opens} opens: {describe(values)}"
        assert values.email_opened == (opens > 0), f"opened flag vs count: {describe(values)}"
        assert values.email_clicked == (clicks > 0), f"clicked flag vs count: {describe(values)}"
        if values.email_clicked:
            assert values.email_opened, f"clicked but not opened: {describe(values)}"
        first_open = values.email_first_opened_at
        assert (first_open is not None) == values.email_opened, (
            f"first open date vs opened flag: {describe(values)}"
        )
        if first_open is not None:
            assert values.call_date is not None, f"opened but never sent: {describe(values)}"
            assert values.call_date <= first_open <= anchor, (
                f"opened at {first_open}, before sending or after the anchor: {describe(values)}"
            )
        if values.type != "email":
            tracking = {key: getattr(values, key) for key in EMAIL_TRACKING}
            assert tracking == EMAIL_TRACKING, (
                f"email tracking on a {values.type}: {tracking}: {describe(values)}"
            )
        opened_somewhere = opened_somewhere or values.email_opened
        clicked_somewhere = clicked_somewhere or values.email_clicked
    assert opened_somewhere, "no email was ever opened"
    assert clicked_somewhere, "no email was ever clicked"


def test_every_datetime_is_aware_utc(book: tuple[datetime, list[DemoCompany]]) -> None:
    _, companies = book
    seen = 0
    for company in companies:
        for debt in company.debts:
            for name, value in asdict(debt.values).items():
                if isinstance(value, datetime):
                    seen += 1
                    assert value.utcoffset() == timedelta(0), f"debt {name}={value!r} not UTC"
                else:
                    assert not isinstance(value, date) or name.endswith("_date"), (
                        f"debt {name}={value!r} is a date where a datetime may be expected"
                    )
            for followup in debt.followups:
                for name, value in asdict(followup.values).items():
                    assert not (isinstance(value, date) and not isinstance(value, datetime)), (
                        f"followup {name}={value!r} is a bare date"
                    )
                    if isinstance(value, datetime):
                        seen += 1
                        assert value.tzinfo is not None, f"followup {name}={value!r} is naive"
                        assert value.utcoffset() == timedelta(0), (
                            f"followup {name}={value!r} is not UTC"
                        )
    assert seen > 2000, f"only {seen} datetimes checked"


def test_followups_count_matches_the_followups(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    for company in companies:
        for debt in company.debts:
            assert debt.values.followups_count == len(debt.followups), (
                f"{company.name} {debt.values.internal_id}: followups_count "
                f"{debt.values.followups_count} for {len(debt.followups)} followups"
            )


def test_cancelled_followups_belong_to_paid_debts(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    cancelled = 0
    for company in companies:
        for debt in company.debts:
            paid = any(f.values.triggered_payment for f in debt.followups)
            for followup in debt.followups:
                if followup.values.status == "cancelled":
                    cancelled += 1
                    assert paid, f"{debt.values.internal_id}: cancelled, yet never paid"
                    assert debt.values.status == "status.default.paid", (
                        f"{debt.values.internal_id}: cancelled on a {debt.values.status} debt"
                    )
    assert cancelled, "no cancelled followup"


def test_the_plan_stops_once_the_debtor_pays(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    wrong: list[str] = []
    for company in companies:
        for debt in company.debts:
            payments = [
                dated(f.values.call_date) for f in debt.followups if f.values.triggered_payment
            ]
            if not payments:
                continue
            paid_at = min(payments)
            wrong.extend(
                f"{company.name} {debt.values.internal_id}: {describe(f.values)}"
                for f in debt.followups
                if f.values.call_date is not None and f.values.call_date > paid_at
            )
    assert not wrong, f"followups executed after the debt was paid: {wrong}"


def test_a_cancellation_is_processed_after_the_payment_that_caused_it(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    wrong: list[str] = []
    for company in companies:
        for debt in company.debts:
            payments = [
                dated(f.values.call_date) for f in debt.followups if f.values.triggered_payment
            ]
            for followup in debt.followups:
                values = followup.values
                if values.status != "cancelled":
                    continue
                assert payments, f"{debt.values.internal_id}: cancelled without a payment"
                if dated(values.processed_at) < min(payments):
                    wrong.append(
                        f"{company.name} {debt.values.internal_id}: processed "
                        f"{values.processed_at}, paid {min(payments)}"
                    )
    assert not wrong, f"{len(wrong)} cancellations processed before the payment: {wrong[:5]}"


# Words that belong to one channel's outcomes (whole words, any case): a summary or a note that
# uses another channel's word describes something that channel did not do.
CHANNEL_WORDS = {
    "physical": ("address", "door", "doorstep", "visit", "met"),
    "call+manual_call": ("call", "called", "pick up", "picked up", "hung up", "line", "rang"),
    "call+manual_call+physical": ("agent",),
    "email": ("email", "bounced", "opened"),
    "sms": ("sms",),
    "whatsapp": ("whatsapp",),
    "voicemail": ("voicemail",),
    "postmail": ("post", "posted", "letter", "formal notice"),
}
# A message's summary names its channel.
OWN_WORDS = {
    "email": "email",
    "sms": "sms",
    "whatsapp": "whatsapp",
    "voicemail": "voicemail",
    "postmail": "post|posted|letter|formal notice",
}
NO_SUMMARY_YET = {"scheduled", "in_progress"}


def words_in(text: str, words: str) -> bool:
    return re.search(rf"\b({words})\b", text, re.IGNORECASE) is not None


def test_every_summary_fits_its_type_and_status(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    wrong: list[str] = []
    for values in followups_of(companies):
        texts = f"{values.summary or ''} / {values.notes or ''}"
        if values.status in NO_SUMMARY_YET:
            if values.summary is not None or values.notes is not None:
                wrong.append(f"{describe(values)}: summarised before it happened: {texts}")
            continue
        if values.summary is None:
            wrong.append(f"{describe(values)}: no summary")
            continue
        for channels, words in CHANNEL_WORDS.items():
            if values.type not in channels.split("+") and words_in(texts, "|".join(words)):
                wrong.append(f"{describe(values)}: {texts!r} speaks of a {channels} outcome")
        own = OWN_WORDS.get(values.type)
        executed = values.status not in NOT_EXECUTED
        if own and executed and not words_in(values.summary, own):
            wrong.append(f"{describe(values)}: {values.summary!r} does not name its channel")
    assert not wrong, f"{len(wrong)} summaries that do not fit, e.g. {wrong[:5]}"


def test_every_summary_comes_from_its_type_and_status_table(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    for values in followups_of(companies):
        allowed = TEXTS[FollowupType(values.type)].get(FollowupStatus(values.status), ())
        if allowed:
            assert (values.summary, values.notes) in allowed, describe(values)
        else:
            assert values.summary is None, describe(values)


def test_ai_calls_deliver_their_reminder_in_every_company(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    """GetBill's own example asks for `status=delivered&type=call`: an AI call that reached the
    debtor and delivered its reminder; a real book has a good share of those."""
    _, companies = book
    for company in companies:
        calls = [
            f.values.status
            for debt in company.debts
            for f in debt.followups
            if f.values.type == "call" and f.values.call_date is not None
        ]
        share = calls.count("delivered") / len(calls)
        assert 0.1 <= share <= 0.3, f"{company.name}: {share:.0%} of its AI calls delivered"
        for debt in company.debts:
            for followup in debt.followups:
                values = followup.values
                if values.status == "delivered" and values.type == "call":
                    assert values.disconnection_reason in {
                        "completed_successfully",
                        "user_hangup",
                    }, describe(values)
                    assert values.direction == "outbound", describe(values)


def wav_seconds(content: bytes) -> float:
    with wave.open(io.BytesIO(content)) as recording:
        frames: int = recording.getnframes()
        rate: int = recording.getframerate()
    return frames / rate


def test_every_recorded_followup_lasts_as_long_as_its_recording(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    files = demo_files()
    recorded = 0
    for followup in demo_followups(companies):
        values = followup.values
        if followup.media is None or followup.media == LETTER_FILE:
            continue
        recorded += 1
        length = wav_seconds(files[followup.media])
        assert values.duration_ms is not None, f"a recording with no duration: {describe(values)}"
        assert abs(values.duration_ms - length * 1000) <= 1000, (
            f"{describe(values)}: {values.duration_ms} ms for a {length} s recording"
        )
        assert values.type in {"call", "voicemail"}, f"a recorded {describe(values)}"
    assert recorded > 300, f"only {recorded} recorded followups"


def test_reached_ai_calls_delivered_voicemails_and_sent_letters_carry_media(
    book: tuple[datetime, list[DemoCompany]],
) -> None:
    _, companies = book
    for followup in demo_followups(companies):
        values = followup.values
        kind, status = values.type, values.status
        reached = status in {"delivered", "deal_found", "deal_not_found", "bad_behavior"}
        recorded = kind in {"call", "voicemail"} and reached
        letter = kind == "postmail" and status in {"sent", "delivered"}
        expected = LETTER_FILE if letter else "a recording" if recorded else None
        found = "a recording" if followup.media not in (None, LETTER_FILE) else followup.media
        assert found == expected, f"{describe(values)} carries {followup.media}"


def test_a_retry_follows_the_call_it_retries(book: tuple[datetime, list[DemoCompany]]) -> None:
    _, companies = book
    for company in companies:
        for debt in company.debts:
            for before, retry in zip(debt.followups, debt.followups[1:], strict=False):
                if not retry.values.is_retry:
                    continue
                earlier = before.values.call_date or before.values.scheduled_at
                later = retry.values.call_date or retry.values.scheduled_at
                assert earlier is not None
                assert later is not None
                assert earlier < later, (
                    f"{debt.values.internal_id}: retry {describe(retry.values)} "
                    f"before {describe(before.values)}"
                )
