"""JSON responses, encoded once: the one way every handler answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Response

# msgspec rather than orjson: it encodes the structs the API shows (FollowupView) from their
# precomputed keys, and plain dicts as fast.
encode_json = msgspec.json.Encoder().encode


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    return Response(
        encode_json(content), status_code=status, media_type="application/json", headers=headers
    )
