"""
Log records that carry the request id, and a JSON formatter for log collectors.

The request id lives in a context variable set by clinic.middleware.RequestIdMiddleware, so every
record logged while a request is handled (by Django, our code or a library) carries it.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Attributes every LogRecord has: anything else was passed in `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a 4xx/5xx after the middleware has returned: it passes the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


# A manage link is a key to a patient's bookings: log lines name the path without it.
_MANAGE_TOKEN = re.compile(r"(/bookings/manage/)[^/\s?#]+")


def _masked(value):
    return _MANAGE_TOKEN.sub(r"\1[token]", value) if isinstance(value, str) else value


class ManageLinkFilter(logging.Filter):
    """Replaces the token of any manage link in a record's message (django.request logs every 4xx path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _masked(arg) for name, arg in record.args.items()}
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for name, value in vars(record).items():
            # django.request's `request` extra is left out: its path may hold a manage link.
            if name not in _STANDARD and name != "request" and not name.startswith("_"):
                entry[name] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
