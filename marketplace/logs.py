"""Structured logs: one JSON object a line, with the request SID on every line about an
invocation, so a publisher call can be followed across web and worker processes."""

import logging

from pythonjsonlogger.json import JsonFormatter


class RequestSidDefault(logging.Filter):
    """Every record carries `request_sid` (empty when it is not about an invocation)."""

    def filter(self, record):
        if not hasattr(record, "request_sid"):
            record.request_sid = ""
        return True


class MarketplaceJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "asctime": "time"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_sid)s", *args, **kwargs)
