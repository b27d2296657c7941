"""How uvicorn speaks HTTP for Relance: its httptools protocol, except that a request too
malformed to reach the app (a broken request line, an oversized header) is answered in the
error envelope of SPEC.md §3 too, not in plain text."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from relance.kit.responses import encode_json

PROTOCOL = "relance.serving:EnvelopeHttpToolsProtocol"
_BODY = encode_json(
    {"error": True, "message": "Malformed HTTP request: it could not be parsed", "code": 400}
)


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        head = [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(_BODY)).encode() + b"\r\n",
            b"cache-control: no-store\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + _BODY)
        self.transport.close()
