"""The bodies of POST /followups and PUT /followups/{id}.

One model serves both: every field optional, unknown fields refused, JSON types strict (a
number in quotes is not a number), null refused where a field cannot be empty. What a create
needs is checked after, from the fields the caller actually sent, so that a PUT changes only
those.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from relance.errors import ValidationFailed
from relance.followups.enums import Direction, FollowupStatus, FollowupType
from relance.followups.records import RECORD_FIELDS, FollowupRecord, StoredFollowup
from relance.kit.bodies import NotNull
from relance.kit.fields import Count, Label, Long, Phone, Short, UtcMoment, WebUrl, WholeNumber


class FollowupBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    debt_id: NotNull[Short] = None
    type: NotNull[FollowupType] = None
    status: NotNull[FollowupStatus] = None
    call_date: UtcMoment | None = None
    scheduled_at: UtcMoment | None = None
    summary: Long | None = None
    notes: Long | None = None
    call_id: Label | None = None
    audio_url: WebUrl | None = None
    pdf_url: WebUrl | None = None
    duration_ms: Annotated[int, Field(ge=0, le=2**53), WholeNumber] | None = None
    disconnection_reason: Label | None = None
    direction: Direction | None = None
    phone_number_used: Phone | None = None
    is_retry: NotNull[bool] = None
    triggered_payment: NotNull[bool] = None
    email_opened: NotNull[bool] = None
    email_clicked: NotNull[bool] = None
    email_open_count: NotNull[Count] = None
    email_click_count: NotNull[Count] = None
    email_first_opened_at: UtcMoment | None = None


def _sent(body: FollowupBody) -> dict[str, Any]:
    """The record's fields the caller sent, as stored values (enums as their text)."""
    sent = {name: getattr(body, name) for name in body.model_fields_set & _RECORDED}
    return {name: v.value if isinstance(v, Enum) else v for name, v in sent.items()}


_RECORDED = frozenset(RECORD_FIELDS)


def record_of(body: FollowupBody) -> FollowupRecord:
    """The record of a new followup: the fields sent, the defaults for the rest."""
    return FollowupRecord(**_sent(body))


def for_create(body: FollowupBody) -> tuple[str, FollowupRecord]:
    """The debt's public ID and the record of a new followup."""
    required = {"debt_id": body.debt_id, "type": body.type}
    problems = {name: ["is required"] for name, value in required.items() if value is None}
    if body.debt_id is None or problems:
        raise ValidationFailed(problems)
    return body.debt_id, record_of(body)


def changed(body: FollowupBody, current: StoredFollowup) -> tuple[StoredFollowup, frozenset[str]]:
    """`current` with the fields the caller sent, and their names (debt_id is not one: a
    followup stays on its debt)."""
    sent = _sent(body)
    return replace(current, **sent), frozenset(sent)
