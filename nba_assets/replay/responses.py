"""HTTP answers of the replay server's endpoints, before they are written to the socket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Response:
    """An HTTP answer before it is written."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """An error answer an endpoint raises; the app turns it into a JSON response."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.status = status
        self.payload = payload


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer (compact, no NaN) with any extra headers."""
    return Response(status, _json(payload), {"Content-Type": "application/json", **(headers or {})})
