"""The app's own log records (``holomate.*``) on the server's output, one line each.

uvicorn's logging config gives handlers to its own loggers only, so the app's records found
none: its INFO lines went nowhere, and a masked error's ``requestId`` pointed to a bare message
from Python's last-resort handler, with no time or logger. Each line carries the time, level,
logger, the request id when the record has one (``extra={"request_id": ...}``), and the message
(a traceback below it). An operator's own config, a handler on ``holomate`` or the root logger
(``uvicorn --log-config``), is left as it is.
"""

from __future__ import annotations

import logging
import sys

LOGGER = "holomate"
LINE = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request = f" [{request_id}]" if request_id else ""
        return super().format(record)


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours: a second app in the process (tests, reloads) changes its level, adds no other."""


def configure_logging(level: str) -> None:
    """Send ``holomate.*`` records at ``level`` and above to stderr, unless already routed."""
    logger = logging.getLogger(LOGGER)
    ours = any(isinstance(h, _AppHandler) for h in logger.handlers)
    if not ours:
        if logger.hasHandlers():
            return  # the operator's logging config
        handler = _AppHandler(sys.stderr)
        handler.setFormatter(LineFormatter(LINE))
        logger.addHandler(handler)
    logger.setLevel(level.upper())
