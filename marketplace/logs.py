"""Structured logs: one JSON object a line, with the request SID on every line about an
invocation, so a publisher call can be followed across web and worker processes."""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# Capabilities ride in these paths (a result's one-time callback, a signed payload download):
# a log line keeps the path and loses the token.
_TOKEN_IN_PATH = re.compile(r"(/callbacks/v1/AddOnResults/[^/\s'\"]+/|/downloads/v1/Payloads/)[^\s/?'\"]+")


def redact_paths(text):
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", text)


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


class RedactTokens(logging.Filter):
    """Django logs a failed request's path (and the request) with it; so does our own code."""

    def filter(self, record):
        record.msg = redact_paths(record.getMessage())
        record.args = ()
        if hasattr(record, "request"):
            record.request = redact_paths(repr(record.request))
        return True
