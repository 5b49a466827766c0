"""What the benchmarks share: a throw-away database, accounts, the platform under gunicorn,
publishers on loopback, and the statistics.

One process-wide setup, made on first use and torn down by `close()` (run.py calls it in a
`finally`): Django can be set up only once per process, and one gunicorn serves every
benchmark so they all measure the same platform.
"""

import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "publishers" / "manifests"
# No control socket: gunicorn 27 otherwise listens on one shared path under ~/.gunicorn.
GUNICORN_ARGS = ["-w", "2", "--threads", "8", "--no-control-socket"]
READY_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
SETTLE_S = 2

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_state = {"var_dir": None, "platform": None}


class BenchError(Exception):
    """A benchmark could not produce figures (a failed call, a server that did not start)."""


# --- the result shape every bench_*.py returns ---------------------------------------------

ROW_KEYS = ("figure", "target", "measured", "unit", "verdict", "detail", "headline")


def row(figure, *, verdict, measured=None, unit="", target=None, detail=None, headline=False):
    """One result: what was measured (`figure`), the aim (`target`, None when there is none),
    the number (`measured`, in `unit`), the judgement in words (`verdict`: "met: …", "MISSED: …",
    "no target; …") and every other column of the measurement (`detail`). `headline` rows open
    RESULTS.md in the summary table; the rest appear only in the module's own table."""
    return {
        "figure": figure,
        "target": target,
        "measured": measured,
        "unit": unit,
        "verdict": verdict,
        "detail": dict(detail or {}),
        "headline": headline,
    }


def judged(verdict):
    """Whether a verdict measures against a target (as opposed to reporting)."""
    return verdict.startswith(("met", "MISSED"))


def row_from_columns(columns, *, measured=None, unit="", target=None, headline=None):
    """A `row` from a module's table columns: "name" is the figure, "verdict" the verdict, the
    `measured` column the number, the others the detail. The target is kept only when the
    verdict judges against it. Judged rows, and rows that failed or did not run, are headlines
    unless `headline` says otherwise."""
    detail = dict(columns)
    figure, verdict = detail.pop("name"), detail.pop("verdict")
    on_target = judged(verdict)
    if headline is None:
        headline = on_target or verdict.startswith(("FAILED", "not run"))
    return row(
        figure,
        verdict=verdict,
        measured=detail.get(measured) if measured else None,
        unit=unit,
        target=target if on_target else None,
        detail=detail,
        headline=headline,
    )


def check_rows(rows):
    """The rows as run.py needs them, or BenchError naming what is wrong."""
    if not isinstance(rows, list) or not rows:
        raise BenchError("run() must return a non-empty list of harness.row(...)")
    for index, result in enumerate(rows):
        if not isinstance(result, dict) or tuple(result) != ROW_KEYS:
            raise BenchError(f"row {index} is not harness.row(...): {result!r:.200}")
        if not isinstance(result["detail"], dict):
            raise BenchError(f"row {index}: detail must be a dict")
    return rows


# --- database and Django -------------------------------------------------------------------


def django_ready():
    """Point Django at a fresh SQLite file in a temp dir, set it up and migrate (once)."""
    if _state["var_dir"] is not None:
        return _state["var_dir"]
    var_dir = Path(tempfile.mkdtemp(prefix="marketplace-bench-"))
    _state["var_dir"] = var_dir
    # Before django.setup(): settings read these at import time. gunicorn inherits them.
    os.environ["MARKETPLACE_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    os.environ.pop("REDIS_URL", None)  # the embedded setup: SQLite, database cache

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    # The example publishers log every request at INFO; both paths pay it, but it floods the output.
    logging.getLogger("publishers").setLevel(logging.WARNING)
    return var_dir


def accounts(label):
    """A fresh publisher and customer, made through the real service."""
    django_ready()
    from accounts.services import create_account
    from billing.services import add_credit

    publisher = create_account(friendly_name=f"{label} publisher", is_publisher=True)
    customer = create_account(friendly_name=f"{label} customer")
    # Priced add-ons run only for accounts that can pay.
    add_credit(account=customer, amount="1000000", reason="benchmark credit")
    return publisher, customer


def install(*, manifest, publisher, customer, configuration=None):
    """Import a manifest as an active listing and install it for the customer."""
    from addons.services import import_listing, install_add_on

    listing = import_listing(manifest=manifest, publisher=publisher, state="active").listing
    return install_add_on(
        account=customer,
        available_add_on_sid=listing.sid,
        accept_terms_of_service=True,
        configuration=configuration or {},
        unique_name=manifest["unique_name"],
    )


def bundled_manifest(name, base_url):
    """A bundled example manifest with its endpoint moved to `base_url` (same path)."""
    manifest = json.loads((MANIFESTS / f"{name}.json").read_text())
    path = manifest["endpoint"]["url"].split("8101", 1)[1]
    manifest["endpoint"]["url"] = base_url + path
    return manifest


def plain_manifest(unique_name, url):
    """The smallest Lookups listing calling `url`: no configuration, no validation."""
    return {
        "unique_name": unique_name,
        "friendly_name": unique_name,
        "type": "phone_number",
        "extensions": ["lookups"],
        "pricing": {"model": "per_use", "price": "0.0001"},
        "configuration_schema": {"type": "object", "properties": {}},
        "endpoint": {
            "url": url,
            "method": "POST",
            "format": "form",
            "params": {"number": "{{primary_address}}"},
            "auth": {"type": "none"},
            "headers": {},
            "timeout_ms": 2000,
            "retries": 0,  # a retry would hide a failure inside a slower figure
            "ttl_ms": 5000,
        },
    }


def database_engine():
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), file in a temp dir"
    return f"{connection.vendor} {'.'.join(map(str, connection.Database.version_info[:3]))}"


# --- servers -------------------------------------------------------------------------------


@contextmanager
def serving(server):
    """Run an HTTP server in a daemon thread; shut it down and close its socket on exit."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STOP_TIMEOUT_S)


class SlowPublisher(BaseHTTPRequestHandler):
    """Answers every request with {"ok": true} after `server.delay_s`; keep-alive like a real one."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends: without TCP_NODELAY a reused connection can wait
    # ~40 ms for the client's delayed ACK, which would be measured as the platform's time.
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.server.delay_s)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def slow_publisher(delay_s):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPublisher)
    server.daemon_threads = True
    server.delay_s = delay_s
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


class Platform:
    """The platform under gunicorn in its own process group, on a free loopback port."""

    def __init__(self, var_dir):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = var_dir / "gunicorn.log"
        self.command = [sys.executable, "-m", "gunicorn", "marketplace.wsgi", "-b", f"127.0.0.1:{self.port}"]
        self.command += GUNICORN_ARGS
        self.cwd = ROOT  # the code it serves (bench_holds serves an older checkout beside it)
        self.process = None

    def start(self):
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()  # the child holds its own descriptor
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}: {self.log_tail()}")
            try:
                # Any HTTP answer (401 without credentials) means a worker serves requests.
                requests.get(self.url + "/v1/AvailableAddOns", timeout=1)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
                continue
            # One worker answers; the other may still be importing Django, competing for the
            # CPUs with the first measurements. A fixed pause is enough for that.
            time.sleep(SETTLE_S)
            return self
        raise BenchError(f"gunicorn did not answer within {READY_TIMEOUT_S} s: {self.log_tail()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def session(self, account):
        """A keep-alive session authenticated as the account."""
        session = requests.Session()
        session.trust_env = False
        session.auth = (account.sid, account.auth_token)
        return session


def platform():
    """The shared gunicorn platform, started on first use."""
    if _state["platform"] is None:
        var_dir = django_ready()
        started = Platform(var_dir)
        _state["platform"] = started  # recorded first, so close() stops it even if start fails
        started.start()
    return _state["platform"]


def platform_description():
    return f"gunicorn marketplace.wsgi {' '.join(GUNICORN_ARGS)} (gthread), DEBUG off, on 127.0.0.1"


def close():
    """Stop gunicorn and remove the temp dir; safe to call more than once."""
    try:
        if _state["platform"] is not None:
            _state["platform"].stop()
    finally:
        _state["platform"] = None
        if _state["var_dir"] is not None:
            shutil.rmtree(_state["var_dir"], ignore_errors=True)
            _state["var_dir"] = None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- measuring -----------------------------------------------------------------------------


def timed(call):
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def p50(values):
    return statistics.median(values)


def p99(values):
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def session():
    """A plain keep-alive session, without proxies from the environment."""
    plain = requests.Session()
    plain.trust_env = False
    return plain


# --- PostgreSQL databases and per-engine child processes (Django sets up once a process) ---

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_unavailable():
    """None when PostgreSQL answers on 127.0.0.1:5432, else why it does not."""
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception as error:  # noqa: BLE001 (any failure to connect means: not run)
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(error).__name__})"
    return None


def create_postgres_database(name, *, replace=True):
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        if replace:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def drop_postgres_database(name):
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except Exception:  # noqa: BLE001 (no PostgreSQL: nothing to drop)
        pass


def run_engine_child(script, engine, work, *, timeout, stop_timeout=15):
    """Run `script --engine ENGINE --json --work WORK` and return the JSON it printed last,
    with `child_s`, its run time; or {"error": ...}."""
    command = [sys.executable, str(Path(script).resolve()), "--engine", engine, "--json", "--work", str(work)]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.terminate()  # the child's SIGTERM handler runs its finally blocks
        try:
            out, _ = child.communicate(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
        return {"error": f"the child did not finish within {timeout} s"}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        return {"error": f"the child exited with {child.returncode} and wrote no figures"}
    outcome = json.loads(lines[-1])
    outcome["child_s"] = time.monotonic() - started
    return outcome
