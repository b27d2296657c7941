"""Property: whatever edge value of whatever type a caller puts in any field of a write body or
any list parameter, the answer is never a 5xx. A refusal is a 400 in the envelope naming that
field; an acceptance stores the value exactly (integers as sent, moments as their UTC second),
on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from relance.runtime import Runtime
from tests.abuse.test_abuse import assert_envelope
from tests.abuse.test_edges import API, DEBT, tenant
from tests.factories import Client

EDGE_INTEGERS = [0, 1, -1, 2**31 - 1, 2**31, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63),
                 -(2**63) - 1, 2**64 - 1, 2**64, 10**30]  # fmt: skip
NUMBER_TEXTS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0.0", "0.5",
                "1.00000000000000000001", "9" * 5000, "1e2", "3.0"]  # fmt: skip
DIGITS = "0123456789١٢٣٤٥٦٧٨٩٠۱۲１２３²¹߁"  # ASCII, Arabic-Indic, Persian, fullwidth, others

offsets = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))
    | st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]),
    offsets,
)
# Any edge value of any type, as the JSON text a caller sends.
json_values = st.one_of(
    st.sampled_from(EDGE_INTEGERS).map(str),
    st.integers().map(str),
    st.sampled_from(NUMBER_TEXTS),
    st.floats().map(lambda f: json.dumps(f)),
    moments.map(lambda m: json.dumps(m.isoformat())),
    st.dates().map(lambda d: json.dumps(d.isoformat())),
    st.text(alphabet=DIGITS, min_size=1, max_size=12).map(json.dumps),
    st.text(max_size=30).map(json.dumps),
    st.sampled_from(
        ["null", "true", "false", "[]", "{}", '{"a": 1e400}', "[18446744073709551616]"]
    ),
)

FOLLOWUP_FIELDS = ["call_date", "scheduled_at", "email_first_opened_at", "duration_ms",
                   "email_open_count", "email_click_count", "is_retry", "status", "type",
                   "summary", "phone_number_used", "audio_url", "direction"]  # fmt: skip
DEBT_FIELDS = ["amount", "birthdate", "invoice_date", "due_date", "metadata", "phone", "email",
               "country", "currency", "iban", "firstname"]  # fmt: skip
INTEGER_FIELDS = {"duration_ms", "email_open_count", "email_click_count"}
MOMENT_FIELDS = {"call_date", "scheduled_at", "email_first_opened_at"}
SETTINGS = examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check_refusal_or_kept(answer: Any, field: str, value: str) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code == 400:
        details = assert_envelope(answer, 400)["details"]
        assert any(name == field or name.startswith(f"{field}.") for name in details), details
        return
    assert answer.status_code in (200, 201), answer.text
    shown = answer.json()["data"][field]
    sent = json.loads(value)
    if field in INTEGER_FIELDS:
        assert shown == sent
    elif field in MOMENT_FIELDS and sent is not None:
        utc = datetime.fromisoformat(sent).astimezone(UTC).replace(microsecond=0)
        assert shown == utc.isoformat()


@SETTINGS
@given(field=st.sampled_from(FOLLOWUP_FIELDS), value=json_values)
async def test_any_edge_value_in_a_followup_body(
    runtime: Runtime, client: Client, field: str, value: str
) -> None:
    headers, debt, followup = await tenant(runtime, client)
    fields = {"debt_id": json.dumps(debt), "type": '"call"', field: value}
    body = "{" + ", ".join(f'"{name}": {text}' for name, text in fields.items()) + "}"
    created = await client.post(f"{API}/followups", content=body, headers=headers)
    check_refusal_or_kept(created, field, value)
    changed = f'{{"{field}": {value}}}'
    updated = await client.put(f"{API}/followups/{followup}", content=changed, headers=headers)
    check_refusal_or_kept(updated, field, value)


@SETTINGS
@given(field=st.sampled_from(DEBT_FIELDS), value=json_values)
async def test_any_edge_value_in_a_debt_body(
    runtime: Runtime, client: Client, field: str, value: str
) -> None:
    headers, _, _ = await tenant(runtime, client)
    fields = {"amount": "5", field: value}
    # A field DEBT holds too (phone, firstname) is sent twice: the last one counts.
    body = "{" + DEBT + ", " + ", ".join(f'"{name}": {text}' for name, text in fields.items()) + "}"
    answer = await client.post(f"{API}/debts", content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 400:
        details = assert_envelope(answer, 400)["details"]
        assert any(name.split(".")[0] in (field, "phone", "email") for name in details), details
    elif field == "metadata":
        assert answer.json()["data"]["metadata"] == json.loads(value)


QUERY_TEXTS = st.one_of(
    st.sampled_from(EDGE_INTEGERS).map(str),
    st.text(alphabet=DIGITS + "+-. e", max_size=20),
    st.sampled_from(["9" * 5000, "", "0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01"]),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=20),
)


@pytest.mark.parametrize("path", ["/followups", "/debts", "/followups/debt/{debt}"])
@SETTINGS
@given(name=st.sampled_from(["page", "limit", "date_from", "date_to", "status"]), text=QUERY_TEXTS)
async def test_any_edge_value_in_a_list_parameter(
    runtime: Runtime, client: Client, path: str, name: str, text: str
) -> None:
    headers, debt, _ = await tenant(runtime, client)
    answer = await client.get(
        f"{API}{path.format(debt=debt)}", params={name: text}, headers=headers
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert name in assert_envelope(answer, 400)["details"]
