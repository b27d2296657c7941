"""Field types shared by the write bodies: bounded text with no NUL byte, E.164 phone numbers,
email addresses, absolute web URLs, bounded counts and moments that exist in UTC, each refused
with a message that says what to send."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, Strict, StringConstraints

from relance.kit.bodies import checked

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+")


def _no_nul(value: str) -> bool:
    # PostgreSQL cannot store a NUL character in text.
    return "\x00" not in value


# An absolute http(s) URL as storage services sign them: a host name or IPv4 address, an
# optional port, then only the characters RFC 3986 allows (escapes written with %).
_WEB_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]*)?"
)


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3, as JSON Schema reads it; 3.5 is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _exists_in_utc(moment: datetime) -> bool:
    """Every timestamp is stored in UTC, and a datetime holds years 1 to 9999 only: near either
    end an offset can carry the moment out of them (0001-01-01T00:00:00+01:00 is year 0)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_text(value: Any) -> Any:
    """Pydantic reads a string of digits ("0", "1e10") as a Unix time: a moment must be written
    as the document says. What passes is parsed by pydantic's own ISO 8601 reader."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _ISO_MOMENT.match(value) is None:
        raise ValueError("must be an ISO 8601 date and time with a UTC offset")
    return value


# JSON Schema patterns are not anchored unless they say so.
NoNul = checked(_no_nul, "must not contain a NUL character", {"pattern": "^[^\\u0000]*$"})
# Not blank once stripped, so its pattern asks for one character that is not a space.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, strip_whitespace=True),
    checked(
        _no_nul, "must not contain a NUL character", {"pattern": "^[^\\u0000]*\\S[^\\u0000]*$"}
    ),
]
Short = Annotated[str, StringConstraints(max_length=100), NoNul]
Label = Annotated[str, StringConstraints(max_length=255), NoNul]
Long = Annotated[str, StringConstraints(max_length=10_000), NoNul]
Phone = Annotated[
    str,
    checked(
        lambda v: _E164.fullmatch(v) is not None,
        "must be an E.164 phone number: + and 7 to 15 digits, such as +33612345678",
        {"pattern": f"^{_E164.pattern}$"},
    ),
]
# One @, a dot after it, no space: what can be written to without refusing real addresses.
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    checked(
        lambda v: _EMAIL.fullmatch(v) is not None,
        "must be an email address",
        # The pattern alone: JSON Schema's `email` format is stricter than this check.
        {"pattern": f"^{_EMAIL.pattern}$", "description": "An email address"},
    ),
]
WebUrl = Annotated[
    str,
    StringConstraints(max_length=2000),
    checked(
        lambda v: _WEB_URL.fullmatch(v) is not None,
        "must be an absolute http or https URL with special characters percent-encoded",
        {"pattern": f"^{_WEB_URL.pattern}$"},
    ),
]
# After the bounds, so that they stay bounds of the integer in the JSON schema.
WholeNumber = BeforeValidator(_whole_number)
Count = Annotated[int, Field(ge=0, le=2_147_483_647), WholeNumber]
# A moment with its offset, which must still be a moment of years 1 to 9999 once in UTC.
UtcMoment = Annotated[
    AwareDatetime,
    # Not strict past the check of the text: strict validation takes only datetime objects once
    # a validator has read the JSON.
    Strict(False),
    BeforeValidator(_iso_text),
    checked(
        _exists_in_utc,
        "must fall within years 1 to 9999 once converted to UTC",
        {"description": "With its UTC offset; within years 1 to 9999 once converted to UTC"},
    ),
]
