"""Field types shared by the write bodies: bounded text with no NUL byte, E.164 phone numbers,
absolute web URLs and bounded counts, each refused with a message that says what to send."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints

from relance.kit.bodies import checked

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _no_nul(value: str) -> bool:
    # PostgreSQL cannot store a NUL character in text.
    return "\x00" not in value


def _web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


NoNul = checked(_no_nul, "must not contain a NUL character")


Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), NoNul]
Short = Annotated[str, StringConstraints(max_length=100), NoNul]
Label = Annotated[str, StringConstraints(max_length=255), NoNul]
Long = Annotated[str, StringConstraints(max_length=10_000), NoNul]
Phone = Annotated[
    str,
    checked(
        lambda v: _E164.fullmatch(v) is not None,
        "must be an E.164 phone number: + and 7 to 15 digits, such as +33612345678",
    ),
]
WebUrl = Annotated[
    str,
    StringConstraints(max_length=2000),
    checked(_web_url, "must be an absolute http or https URL"),
]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
