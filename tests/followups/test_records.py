"""The followup's record is its one definition: the body, the view and the table name the same
fields, held to it here rather than derived from it (a derived view would lose its speed)."""

from __future__ import annotations

from typing import get_type_hints

from relance.followups.bodies import FollowupBody
from relance.followups.records import BOOLEANS, FOLLOWUP_FIELDS, RECORD_FIELDS, TIMESTAMPS
from relance.followups.schemas import FollowupView
from relance.kit.views import Moment
from relance.models.followup import Followup


def test_the_view_shows_the_stored_fields_in_their_order_then_when_media_links_expire() -> None:
    assert FollowupView.__struct_fields__ == (*FOLLOWUP_FIELDS, "media_urls_expire_at")


def test_a_body_may_send_every_field_of_the_record_but_the_moment_of_the_write() -> None:
    assert set(FollowupBody.model_fields) == {"debt_id", *RECORD_FIELDS} - {"processed_at"}


def test_the_table_stores_the_record_with_its_keys_activity_time_and_reference() -> None:
    kept = {"id", "company_id", "debt_id", "activity_at", "external_id", "created_at", "updated_at"}
    # When its status first entered a completed one: followup.completed is sent that once.
    kept.add("completed_at")
    assert {column.name for column in Followup.__table__.columns} == {*RECORD_FIELDS, *kept}


def test_the_view_shows_the_record_s_timestamps_as_moments_and_its_booleans_as_booleans() -> None:
    shown = get_type_hints(FollowupView, include_extras=True)
    assert {name for name in RECORD_FIELDS if shown[name] == Moment | None} == set(TIMESTAMPS)
    assert {name for name in RECORD_FIELDS if shown[name] is bool} == set(BOOLEANS)
