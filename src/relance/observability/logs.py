"""Logs on standard output, one JSON object per line (or plain text, for a terminal).

Every line carries the time, level, logger and message, the request ID of the request it was
written for, and the event's own fields. What goes in a line is chosen where it is written:
never a token, a secret, a signed URL or a debtor's personal data.

Values come from callers (a client ID, a path), so no value can start a line of its own: in
JSON, control characters are escaped, and so are the characters some readers take for line
ends (U+0085, U+2028, U+2029); in text, every control character and backslash is escaped, a
value with a space, quote or `=` is quoted, and a traceback's lines are indented, so that every
line that starts at its first column is a record of its own.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any, Literal

from relance.kit.responses import encode_json

# The ID of the request being served, for every line written while serving it.
request_id: ContextVar[str | None] = ContextVar("relance_request_id", default=None)

LogFormat = Literal["json", "text"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        text = encode_json(line).decode()
        # JSON leaves these unescaped, but str.splitlines and some log shippers end lines there.
        return text if text.isascii() else text.translate(_JSON_LINE_ENDS)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        shown = " ".join(f"{name}={_text_value(value)}" for name, value in fields.items())
        message = _escaped(record.getMessage())
        text = f"{_utc(record.created)} {record.levelname:<7} {record.name}: {message}"
        text = f"{text} {shown}" if shown else text
        if record.exc_info:
            lines = self.formatException(record.exc_info).splitlines()
            text = "\n".join([text, *(f"    {_escaped(line)}" for line in lines)])
        return text


_JSON_LINE_ENDS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
# C0 and C1 controls, DEL, Unicode's line and paragraph separators, and the escape character.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\\\\]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_NEEDS_QUOTES = re.compile('[ "=]')


def _escaped(text: str) -> str:
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _text_value(value: object) -> str:
    text = _escaped(str(value))
    if text and _NEEDS_QUOTES.search(text) is None:
        return text
    return '"' + text.replace('"', '\\"') + '"'


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard output, written in blocks rather than flushed line by line: a flush per
    request line cost more than the rest of the logging (a write system call each, from every
    worker into the same file or pipe). Warnings and errors are flushed at once, the rest within
    a second, and everything at exit."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self._flusher: threading.Thread | None = None

    def flush(self) -> None:
        """Only when asked explicitly (at exit and once a second), not after every record."""

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if record.levelno >= logging.WARNING:
            self.flush_now()
        elif self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_often, daemon=True)
            self._flusher.start()

    def flush_now(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def close(self) -> None:
        self.flush_now()
        super().close()

    def _flush_often(self) -> None:
        while True:
            time.sleep(1)
            self.flush_now()


def _utc(created: float) -> str:
    seconds = int(created)
    return f"{_second(seconds)}.{int((created - seconds) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    """Lines come many to a second: the second is formatted once."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The one logging setup, for the app and for uvicorn's own loggers alike."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"relance": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stdout": {"()": f"{StdoutHandler.__module__}.StdoutHandler", "formatter": "relance"}
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # uvicorn's loggers write through the root handler, in the same format.
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Migrations say what they do through `relance db`, not at every start.
            "alembic": {"level": "WARNING"},
            # Relance writes its own line per request (relance.requests).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
