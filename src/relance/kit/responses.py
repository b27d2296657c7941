"""JSON responses, encoded once with orjson: the one way every handler answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from litestar import Response


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )
