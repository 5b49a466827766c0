"""gunicorn for the web processes: `gunicorn -c gunicorn.conf.py marketplace.wsgi`.

Threads, not just processes: a lookup waits on its publishers (up to 2 s) and the waiting
costs a thread, not a CPU. Every setting can be overridden from the environment.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from marketplace.logs import redact_paths

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
# Longer than a request can legitimately take (publisher deadline 2 s, uploads), shorter
# than a stuck worker should be tolerated.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "10000"))
max_requests_jitter = 1000
accesslog = "-"


class RedactingLogger(Logger):
    """The access log keeps callback and download paths but not the tokens in them."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U"):
            atoms[name] = redact_paths(atoms[name])
        return atoms


logger_class = RedactingLogger
access_log_format = '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s}'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
control_socket_disable = True
