"""Field types of the objects the API shows, as msgspec annotations: they change nothing in how
a struct is built or encoded, and tell the OpenAPI document what each string holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from msgspec import Meta

from relance.kit.ids import ID_LENGTH

PublicId = Annotated[
    str,
    Meta(
        pattern=f"^[0-9A-Za-z]{{{ID_LENGTH}}}$",
        description="An encrypted ID: 22 letters and digits",
        examples=["3kTMd9pYqZ1bXw7LrN2vHc"],
    ),
]
Moment = Annotated[
    str,
    Meta(
        extra_json_schema={"format": "date-time"},
        description="UTC, to the second, with an explicit offset",
        examples=["2024-01-22T10:30:00+00:00"],
    ),
]
Day = Annotated[str, Meta(extra_json_schema={"format": "date"}, examples=["2024-01-22"])]
NonNegative = Annotated[int, Meta(ge=0)]
# GetBill's moments on its debtors and creditors: UTC, to the second, with a space and no offset.
SpacedMoment = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        description="UTC, to the second, written as GetBill writes it: YYYY-MM-DD HH:MM:SS",
        examples=["2024-01-22 10:30:00"],
    ),
]


def spaced(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
