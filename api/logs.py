"""The app's own log records (``holomate.*``) on the server's output, one line each.

uvicorn's logging config gives handlers to its own loggers only, so the app's records found
none: its INFO lines went nowhere, and a masked error's ``requestId`` pointed to a bare message
from Python's last-resort handler, with no time or logger. Each line carries the time, level,
logger, the request id when the record has one (``extra={"request_id": ...}``), and the message
(a traceback below it). An operator's own config, a handler on ``holomate`` or the root logger
(``uvicorn --log-config``), is left as it is.

HOLOMATE_LOG_FORMAT=json writes one JSON object a line instead, for a log pipeline to index:
time, level, logger, message, and from the work it came from (``api.log_fields``) the request
id, operation, hashed user, and the trace and span ids when tracing is on.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from opentelemetry import trace

from api import log_fields

LOGGER = "holomate"
LINE = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request = f" [{request_id}]" if request_id else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_fields.current(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours: a second app in the process (tests, reloads) changes its level, adds no other."""


def configure_logging(level: str, form: str = "text") -> None:
    """Send ``holomate.*`` records at ``level`` and above to stderr, unless already routed."""
    logger = logging.getLogger(LOGGER)
    handler = next((h for h in logger.handlers if isinstance(h, _AppHandler)), None)
    if handler is None:
        if logger.hasHandlers():
            return  # the operator's logging config
        handler = _AppHandler(sys.stderr)
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if form == "json" else LineFormatter(LINE))
    logger.setLevel(level.upper())
