"""Recordings end to end: WAVs uploaded through `POST /sandbox/v1/Recordings` (gunicorn, 4
client threads), sent by a real `manage.py qcluster` (Q_WORKERS=2; the other django-q2 settings
as shipped: Q_POLL 0.2 s, bulk 1, save_limit 250; CONN_MAX_AGE as shipped, 0) to a fast
asynchronous publisher (answers 202 at once, then posts {"transcript": ...} to the one-time
callback URL from 8 threads), until every AddOnResult is completed. Three configurations, each
on a fresh database with its own gunicorn and cluster, one after the other in a child process
(Django is set up once per process): the ORM broker on SQLite (the embedded setup), the ORM
broker on PostgreSQL, and Redis on PostgreSQL. The last two differ only in REDIS_URL, which sets
both the broker and the Django cache (the cache holds the API's per-account throttle counters,
read and written on each upload, not on callbacks), so their ratio is the broker's plus that
cache's. API_RATE_LIMIT is raised out of the way (100/s per account as shipped).

Phases, in order, per configuration. "uploads alone" = N uploads with the cluster stopped,
N / (last 201 − first upload). "drain" = the cluster then started on that backlog,
N / (last completion − first dispatch). "one at a time" = 20 recordings, each uploaded after a
random pause once the previous one completed and the cluster is idle: 201 → completed
(latency) and upload → dispatched (pickup), p50, with CPU and sessions per second (mostly the
cluster idling). "end to end" = N more uploads with the cluster running, N / (last completion −
first upload), with the uploads' own rate and each recording's upload → completed. "cluster
idle after last completion" = until the broker and the cluster's own queues were empty
(trailing customer notifications, results the monitor had not saved yet).

"CPU ms/rec by process" = the machine's CPU time in the phase (until the cluster is idle
again) split by process, from /proc: gunicorn; the cluster (its workers, monitor and pusher);
PostgreSQL (the server less other databases' backends) and Redis when the configuration uses
them; bench = this process (client, publisher, poller); other = the rest of the machine.
"CPU ceiling" = usable cores × 1000 / the CPU ms per recording of everything but other: the
rate that CPU cost allows, however busy the machine was. "PG sessions/rec" = connections
opened to the bench database (pg_stat_database.sessions).

Every configuration is verified: each result completed exactly once (one publisher request per
request SID, one 200 callback, one invocation, one payload whose transcript matches its
recording, one per-minute charge; the customers get credit first, since a priced add-on runs
only on a balance that covers it), no failed django-q2 task, the cluster drained; otherwise its
end to end row says FAILED.
"""

import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import wave
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import harness
import requests

N = 200  # recordings per measured phase
IDLE = 20  # recordings sent one at a time
IDLE_JITTER_S = 0.5  # at most this pause before each
AUDIO_S = 1.0
UPLOAD_THREADS = 4
CALLBACK_THREADS = 8
Q_WORKERS = 2
POLL_S = 0.05
PHASE_TIMEOUT_S = 180  # a phase that has not finished by then is a failure
IDLE_TIMEOUT_S = 20
CHILD_TIMEOUT_S = 900
DRAIN_TIMEOUT_S = 60  # trailing tasks, acknowledgements and saved results after the last completion
CLUSTER_READY_S = 30
STOP_TIMEOUT_S = 10
SAMPLE_S = 0.25  # how often other databases' PostgreSQL backends are looked at
OUTSIDE_CPU_NOTE_PCT = 15  # above this share of CPU used by other jobs, a row says so

PG_BENCH_DB = "bench_marketplace"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/14"

CONFIGS = [
    {"key": "orm-sqlite", "label": "ORM broker, SQLite", "database": "sqlite", "broker": "orm"},
    {"key": "orm-postgres", "label": "ORM broker, PostgreSQL", "database": "postgres", "broker": "orm"},
    {"key": "redis-postgres", "label": "Redis broker, PostgreSQL", "database": "postgres", "broker": "redis"},
]

ERROR_PATTERNS = ("Traceback", "database is locked", "Failed '", "Could not save task")


# --- the parent: one child process per configuration ---------------------------------------


def run(configs=CONFIGS, extra_env=None):
    outcomes = {}
    work = Path(tempfile.mkdtemp(prefix="marketplace-bench-recordings-"))
    try:
        for config in configs:
            skip = _unavailable(config)
            if skip:
                outcomes[config["key"]] = {"skipped": skip}
                continue
            outcomes[config["key"]] = _run_child(config, work, extra_env or {})
    finally:
        harness.drop_postgres_database(PG_BENCH_DB)
        _flush_bench_redis()
        shutil.rmtree(work, ignore_errors=True)
    return [as_row(columns) for columns in _rows(configs, outcomes)]


def as_row(columns):
    """No target: end to end per configuration, and Redis ÷ ORM end to end, head the summary."""
    ratio = columns["name"].startswith("Redis ÷ ORM")
    return harness.row_from_columns(
        columns,
        measured="Redis ÷ ORM (×)" if ratio else "rec/s",
        unit="×" if ratio else "rec/s",
        headline="end to end" in columns["name"] or columns["verdict"].startswith(("FAILED: ", "not run")),
    )


def _unavailable(config):
    if config["database"] == "postgres":
        if unavailable := harness.postgres_unavailable():
            return unavailable
    if config["broker"] == "redis":
        try:
            import redis

            redis.Redis.from_url(REDIS_BENCH_URL, socket_timeout=3).ping()
        except Exception as error:  # noqa: BLE001
            return f"Redis not reachable at 127.0.0.1:6379 ({type(error).__name__})"
    return None


def _run_child(config, work, extra_env):
    """Run one configuration in a child process; its figures, or {"error": ...}."""
    out = work / f"{config['key']}.json"
    pids = work / f"{config['key']}.pids"
    if config["database"] == "postgres":
        harness.drop_postgres_database(PG_BENCH_DB)
        harness.create_postgres_database(PG_BENCH_DB, replace=False)
    if config["broker"] == "redis":
        _flush_bench_redis()
    spec = {**config, "out": str(out), "pids": str(pids), "extra_env": extra_env}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    child = subprocess.Popen(command, cwd=harness.ROOT)
    try:
        child.wait(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if child.poll() is None:  # its timeout, or this process interrupted
            child.terminate()  # the child's SIGTERM handler runs its finally blocks
            try:
                child.wait(timeout=3 * STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=STOP_TIMEOUT_S)
        _reap_orphans(pids)
        if config["database"] == "postgres":
            harness.drop_postgres_database(PG_BENCH_DB)
        if config["broker"] == "redis":
            _flush_bench_redis()
    if out.exists():
        return json.loads(out.read_text())
    if child.returncode is None or child.returncode < 0 or child.returncode == 143:
        return {"error": f"the child did not finish within {CHILD_TIMEOUT_S} s"}
    return {"error": f"the child exited with {child.returncode} and wrote no figures"}


def _reap_orphans(pids_file):
    """Stop what a child that died without its finally left running (ours only, by pid)."""
    if not pids_file.exists():
        return
    for line in pids_file.read_text().split():
        kind, _, pid = line.partition(":")
        pid = int(pid)
        cmdline = _cmdline(pid)
        if kind == "gunicorn" and "gunicorn" in cmdline:
            os.kill(pid, signal.SIGTERM)
        elif kind == "qcluster" and "qcluster" in cmdline:
            os.killpg(pid, signal.SIGKILL)


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _flush_bench_redis():
    try:
        import redis

        redis.Redis.from_url(REDIS_BENCH_URL, socket_timeout=3).flushdb()  # db 14 only
    except Exception:  # noqa: BLE001 (no Redis: nothing to flush)
        pass


def _rows(configs, outcomes):
    rows = []
    for config in configs:
        outcome = outcomes[config["key"]]
        label = config["label"]
        if "skipped" in outcome:
            rows.append({"name": label, "verdict": f"not run: {outcome['skipped']}"})
            continue
        if "error" in outcome:
            rows.append({"name": label, "verdict": f"FAILED: {outcome['error']}"})
            continue
        if outcome["problems"]:
            verdict = "FAILED: " + "; ".join(outcome["problems"])
        else:
            verdict = (
                f"ok, no target: all {outcome['total_results']} results of the run completed once "
                f"({outcome['total_results']} payloads and charges), 0 failed"
            )
        if outcome["log_errors"]:
            verdict += f"; error lines in logs: {outcome['log_errors']}"
        for phase, figures in outcome["phases"].items():
            if phase == "end to end":
                phase_verdict = verdict
            else:
                phase_verdict = "FAILED: see its end to end row" if outcome["problems"] else "no target; reported"
            if figures.get("CPU outside bench (%)", 0) > OUTSIDE_CPU_NOTE_PCT:
                phase_verdict += "; the machine was shared (CPU outside bench), so the rate is understated"
            name = f"{label}: {phase}" + (f", {N} × {AUDIO_S:.0f} s WAV" if phase == "end to end" else "")
            rows.append({"name": name, **figures, "verdict": phase_verdict})
    orm, redis_ = outcomes.get("orm-postgres", {}), outcomes.get("redis-postgres", {})
    if "phases" in orm and "phases" in redis_:
        failed = orm["problems"] or redis_["problems"]
        for phase, column in (
            ("uploads alone", "rec/s"),
            ("drain", "rec/s"),
            ("one at a time", "idle latency p50 (ms)"),
            ("end to end", "rec/s"),
        ):
            a, b = redis_["phases"][phase].get(column), orm["phases"][phase].get(column)
            ratio = a / b if a and b else None
            if failed or ratio is None:
                phase_verdict = "FAILED: a configuration failed, so its ratio means nothing"
            else:
                phase_verdict = f"Redis ÷ ORM {phase} ({column}): {ratio:.2f}×"
            rows.append(
                {
                    "name": f"Redis ÷ ORM broker on PostgreSQL: {phase}",
                    "Redis ÷ ORM (×)": ratio or "",
                    "verdict": phase_verdict,
                }
            )
    return rows


# --- the child: one configuration ----------------------------------------------------------


def child(spec):
    # A SIGTERM from the parent (its timeout) unwinds through the finally blocks below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        _child(spec)
    except Exception as error:
        traceback.print_exc()
        Path(spec["out"]).write_text(json.dumps({"error": f"{type(error).__name__}: {str(error)[:500]}"}))


def _child(spec):
    var_dir = Path(tempfile.mkdtemp(prefix=f"marketplace-bench-{spec['key']}-"))
    platform = cluster = None
    try:
        database_url = f"sqlite:///{var_dir / 'bench.sqlite3'}" if spec["database"] == "sqlite" else PG_BENCH_URL
        platform = harness.Platform(var_dir)
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "marketplace.settings",
                "MARKETPLACE_VAR_DIR": str(var_dir),
                "DATABASE_URL": database_url,
                "SECRET_KEY": secrets.token_urlsafe(50),  # callback tokens are signed with it
                "MEDIA_ROOT": str(var_dir / "media"),
                "MARKETPLACE_BASE_URL": platform.url,  # callback URLs reach this gunicorn
                "TASKS_SYNC": "0",
                "Q_WORKERS": str(Q_WORKERS),
                # Far above what this measures: the per-account API limit (100/s as shipped)
                # would answer uploads 429; the throttle still runs and counts.
                "API_RATE_LIMIT": "100000/s",
                **spec["extra_env"],
            }
        )
        if spec["broker"] == "redis":
            os.environ["REDIS_URL"] = REDIS_BENCH_URL
        else:
            os.environ.pop("REDIS_URL", None)

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        import logging

        logging.getLogger("django_q").setLevel(logging.WARNING)
        logging.getLogger("django-q").setLevel(logging.WARNING)

        from accounts.services import create_account
        from addons.services import import_listing, install_add_on
        from billing.services import add_credit

        publisher = create_account(friendly_name="recordings bench publisher", is_publisher=True)
        customers = {
            phase: create_account(friendly_name=f"recordings bench {phase}") for phase in ("alone", "idle", "e2e")
        }
        app = FastPublisher(publisher)
        with harness.serving(app.server):
            listing = import_listing(manifest=_manifest(app.url), publisher=publisher, state="active").listing
            for customer in customers.values():
                # Priced add-ons run only on a balance that covers them: $0.01 a minute, plenty.
                add_credit(account=customer, amount="100.00", reason="recordings benchmark")
                install_add_on(
                    account=customer,
                    available_add_on_sid=listing.sid,
                    accept_terms_of_service=True,
                    configuration={},
                    unique_name="bench_transcriber",
                )
            platform.start()
            _note_pid(spec, "gunicorn", platform.process.pid)
            try:
                cluster = QCluster(var_dir / "qcluster.log", on_spawn=lambda pid: _note_pid(spec, "qcluster", pid))
                outcome = _measure(spec, platform, cluster, customers, app)
            finally:
                if cluster is not None:
                    cluster.stop()
                app.close()
        outcome["log_errors"] = _log_errors(var_dir)
        Path(spec["out"]).write_text(json.dumps(outcome))
    finally:
        if cluster is not None:
            cluster.stop()
        if platform is not None:
            platform.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 (Django never set up)
            pass
        shutil.rmtree(var_dir, ignore_errors=True)


def _note_pid(spec, kind, pid):
    with open(spec["pids"], "a") as pids:
        pids.write(f"{kind}:{pid}\n")


def _manifest(url):
    """A recording add-on: multipart audio, the callback URL, no retries (a retry would hide a failure)."""
    return {
        "unique_name": "bench_transcriber",
        "friendly_name": "Bench transcriber",
        "description": "Answers 202 and calls back at once.",
        "type": "recording_analysis",
        "extensions": ["recordings"],
        "pricing": {"model": "per_minute", "price": "0.0100"},
        "billable_items": [],
        "configuration_schema": {"type": "object", "properties": {}},
        "request_validation_schema": None,
        "response_validation_schema": {"type": "object", "required": ["transcript"]},
        "endpoint": {
            "url": url + "/analyse",
            "method": "POST",
            "format": "multipart",
            "audio_field": "audio",
            "params": {
                "audio": "{{audio_data}}",
                "callback_url": "{{callback_url}}",
                "media_sid": "{{media_sid}}",
                "duration": "{{duration}}",
            },
            "auth": {"type": "none"},
            "headers": {},
            "timeout_ms": 2000,
            "retries": 0,
            "ttl_ms": 5000,
        },
        "runtime_fields": [],
    }


def _measure(spec, platform, cluster, customers, app):
    from recordings.models import AddOnResult

    wav = wav_bytes(AUDIO_S)
    phases, problems = {}, []
    meter = Meter(platform.process.pid, postgres=spec["database"] == "postgres", redis=spec["broker"] == "redis")

    # 1. Uploads alone: the cluster is not running, the tasks wait in the broker.
    meter.start()
    uploads = upload_many(platform, customers["alone"], wav, N)
    phases["uploads alone"] = {"rec/s": uploads.rate(), **meter.stop(uploads.ok)}
    problems += uploads.problems("uploads alone")

    # 2. Drain: the cluster starts on that backlog (measured from its first dispatch).
    cluster.start()
    meter.watch_cluster(cluster.process.pid)
    meter.start()
    finished = wait_terminal(customers["alone"], uploads.ok, PHASE_TIMEOUT_S)
    # CPU until the trailing work (a customer notification per completion, the monitor saving
    # each task's result) is done too.
    late, caught_up = drain_broker(DRAIN_TIMEOUT_S)
    problems += late
    stamps = _stamps(AddOnResult.objects.filter(account=customers["alone"]))
    phases["drain"] = meter.stop(len(stamps))
    phases["drain"]["cluster idle after last completion (s)"] = caught_up
    problems += finished.problems("drain")
    if stamps and finished.done:
        first_dispatch = min(s["dispatched"] for s in stamps)
        phases["drain"]["rec/s"] = len(stamps) / (max(s["completed"] for s in stamps) - first_dispatch)

    # 3. Idle: one recording at a time, through the running cluster (the broker is empty).
    latency_ms, pickup_ms = [], []
    session = platform.session(customers["idle"])
    idle_started = time.monotonic()
    meter.start()
    for _ in range(IDLE):
        # A random pause, so an upload does not fall at the same point of the pusher's poll each time.
        time.sleep(random.uniform(0, IDLE_JITTER_S))
        reply = session.post(f"{platform.url}/sandbox/v1/Recordings", files={"Audio": ("call.wav", wav)}, timeout=30)
        answered = time.time()
        if reply.status_code != 201:
            problems.append(f"idle upload answered {reply.status_code}: {reply.text[:200]}")
            break
        sid = reply.json()["sid"]
        done = _wait_for(
            lambda sid=sid: AddOnResult.objects.filter(recording__sid=sid, status__in=AddOnResult.TERMINAL).first(),
            IDLE_TIMEOUT_S,
            0.005,
        )
        if done is None or done.status != AddOnResult.Status.COMPLETED:
            problems.append(f"idle recording {sid} not completed within {IDLE_TIMEOUT_S} s")
            break
        latency_ms.append((done.date_completed.timestamp() - answered) * 1000)
        pickup_ms.append((done.date_dispatched.timestamp() - done.recording.date_created.timestamp()) * 1000)
    # Mostly waiting: its CPU per second (the cluster's polling shows) rather than per recording.
    phases["one at a time"] = meter.stop(time.monotonic() - idle_started, unit="s")
    if latency_ms:
        phases["one at a time"]["idle latency p50 (ms)"] = statistics.median(latency_ms)
        phases["one at a time"]["idle pickup p50 (ms)"] = statistics.median(pickup_ms)

    # 4. End to end: uploads while the cluster works.
    meter.start()
    uploads = upload_many(platform, customers["e2e"], wav, N, background=True)
    finished = wait_terminal(customers["e2e"], None, PHASE_TIMEOUT_S, uploads=uploads)
    late, caught_up = drain_broker(DRAIN_TIMEOUT_S)
    problems += late
    stamps = _stamps(AddOnResult.objects.filter(account=customers["e2e"]))
    phase = phases["end to end"] = meter.stop(len(stamps))
    phase["cluster idle after last completion (s)"] = caught_up
    problems += uploads.problems("end to end uploads")
    problems += finished.problems("end to end")
    if stamps and finished.done:
        phase["rec/s"] = len(stamps) / (max(s["completed"] for s in stamps) - uploads.first_start)
        latencies = sorted(s["completed"] - s["created"] for s in stamps)
        p90 = latencies[int(0.9 * (len(latencies) - 1))]
        phase["latency p50 / p90 / max (s)"] = f"{statistics.median(latencies):.1f} / {p90:.1f} / {latencies[-1]:.1f}"
    phase["uploads during (rec/s)"] = uploads.rate()

    # 5. Correctness of everything this configuration did.
    problems += verify(list(customers.values()), app)
    return {"phases": phases, "problems": problems, "total_results": app.requests_total()}


# --- uploading and waiting -----------------------------------------------------------------


class Uploads:
    """N uploads from a few threads, each on its own keep-alive session."""

    def __init__(self, total):
        self.total = total
        self.ok = 0
        self.failures = Counter()
        self.first_start = None
        self.last_end = None
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.next_index = 0

    def rate(self):
        if self.ok == 0 or self.last_end is None:
            return ""
        return self.ok / (self.last_end - self.first_start)

    def problems(self, phase):
        missing = self.total - self.ok
        if missing:
            return [f"{phase}: {missing} of {self.total} uploads failed ({dict(self.failures)})"]
        return []


def upload_many(platform, customer, wav, total, background=False):
    uploads = Uploads(total)
    url = f"{platform.url}/sandbox/v1/Recordings"

    def worker():
        session = platform.session(customer)
        while True:
            with uploads.lock:
                if uploads.next_index >= total:
                    return
                uploads.next_index += 1
                now = time.time()
                if uploads.first_start is None:
                    uploads.first_start = now
            try:
                reply = session.post(url, files={"Audio": ("call.wav", wav)}, timeout=30)
                outcome = reply.status_code
            except requests.RequestException as error:
                outcome = type(error).__name__
            ended = time.time()
            with uploads.lock:
                if outcome == 201:
                    uploads.ok += 1
                else:
                    uploads.failures[outcome] += 1
                uploads.last_end = max(uploads.last_end or ended, ended)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(UPLOAD_THREADS)]

    def run_all():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=PHASE_TIMEOUT_S)
        uploads.finished.set()

    if background:
        threading.Thread(target=run_all, daemon=True).start()
    else:
        run_all()
    return uploads


class Finished:
    def __init__(self, done, counts, expected, waited):
        self.done, self.counts, self.expected, self.waited = done, counts, expected, waited

    def problems(self, phase):
        issues = []
        if not self.done:
            issues.append(f"{phase}: {dict(self.counts)} of {self.expected} after {self.waited:.0f} s")
        if self.counts.get("failed"):
            issues.append(f"{phase}: {self.counts['failed']} results failed")
        return issues


def wait_terminal(customer, expected, timeout, uploads=None):
    """Poll the database until every result of the customer is terminal (bounded)."""
    from django.db.models import Count

    from recordings.models import AddOnResult

    started = time.monotonic()
    counts = Counter()
    while time.monotonic() - started < timeout:
        if uploads is not None and uploads.finished.is_set():
            expected = uploads.ok
        rows = AddOnResult.objects.filter(account=customer).values_list("status").annotate(n=Count("id"))
        counts = Counter(dict(rows))
        terminal = counts["completed"] + counts["failed"]
        if expected is not None and terminal >= expected:
            return Finished(True, counts, expected, time.monotonic() - started)
        time.sleep(POLL_S)
    return Finished(False, counts, expected, time.monotonic() - started)


def _wait_for(condition, timeout, interval):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


def _stamps(results):
    rows = results.values_list("recording__date_created", "date_dispatched", "date_completed")
    return [
        {
            "created": created.timestamp(),
            "dispatched": dispatched.timestamp() if dispatched else None,
            "completed": completed.timestamp() if completed else None,
        }
        for created, dispatched, completed in rows
        if completed is not None
    ]


def drain_broker(timeout):
    """Wait until the cluster has nothing left: the broker empty (and, for the ORM broker,
    every task acknowledged) and the cluster's own queues empty (tasks pulled but not run,
    results not yet saved by the monitor), as its Stat reports them each guard cycle (0.5 s),
    so twice in a row. (problems, seconds waited)."""
    from django_q.brokers import get_broker
    from django_q.status import Stat

    broker = get_broker()

    def idle():
        if broker.queue_size() or (broker.lock_size() or 0):
            return False
        stats = Stat.get_all(broker=broker)
        return bool(stats) and all(stat.empty_queues() for stat in stats)

    started = time.monotonic()
    in_a_row = 0
    while time.monotonic() - started < timeout:
        in_a_row = in_a_row + 1 if idle() else 0
        if in_a_row >= 2:
            return [], time.monotonic() - started
        time.sleep(0.3)
    return [f"the cluster still had tasks or results {timeout} s after the last completion"], timeout


def _pg_sessions():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


# --- verifying ------------------------------------------------------------------------------


def verify(customers, app):
    """Every result of these customers completed exactly once, with its one payload."""
    from django.db.models import Count
    from django_q.models import Failure

    from addons.models import Invocation
    from billing.models import BillingEvent
    from recordings.models import AddOnResult, Payload, Recording

    problems = []
    recordings = Recording.objects.filter(account__in=customers).count()
    results = AddOnResult.objects.filter(account__in=customers)
    statuses = Counter(results.values_list("status", flat=True))
    if statuses != Counter({"completed": recordings}):
        problems.append(f"{recordings} recordings but results {dict(statuses)}")
        reasons = Counter(results.filter(status="failed").values_list("error_code", "error_message"))
        problems += [f"{n} failed with {code}: {message[:160]}" for (code, message), n in reasons.most_common(3)]
    doubled = results.values("recording_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if doubled:
        problems.append(f"{doubled} recordings have more than one result")
    unclaimed = results.filter(callback_claimed_at__isnull=True).count()
    if unclaimed:
        problems.append(f"{unclaimed} results were never claimed by a callback")

    payloads = Payload.objects.filter(add_on_result__account__in=customers).select_related("add_on_result__recording")
    per_result = Counter()
    wrong = 0
    for payload in payloads:
        per_result[payload.add_on_result_id] += 1
        with payload.data.open("rb") as data:
            body = json.loads(data.read())
        if body != {"transcript": f"analysis of {payload.add_on_result.recording.sid}"}:
            wrong += 1
    if len(per_result) != recordings or any(n != 1 for n in per_result.values()):
        problems.append(f"{sum(per_result.values())} payloads for {len(per_result)} results of {recordings} recordings")
    if wrong:
        problems.append(f"{wrong} payloads do not hold their recording's transcript")

    invocations = Counter(
        Invocation.objects.filter(account__in=customers, integration_point="recordings").values_list(
            "status", "http_status"
        )
    )
    if invocations != Counter({("successful", 202): recordings}):
        problems.append(f"invocations {dict(invocations)} for {recordings} recordings")

    charged = Counter(
        BillingEvent.objects.filter(account__in=customers, kind=BillingEvent.Kind.PER_MINUTE).values_list(
            "reference", flat=True
        )
    )
    if len(charged) != recordings or any(n != 1 for n in charged.values()):
        problems.append(
            f"{sum(charged.values())} per-minute charges for {len(charged)} results of {recordings} recordings"
        )

    seen, callbacks, malformed = app.summary()
    if len(seen) != recordings or len(set(seen)) != recordings:
        problems.append(
            f"the publisher got {len(seen)} requests for {len(set(seen))} results of {recordings} recordings"
        )
    if callbacks != Counter({200: recordings}):
        problems.append(f"callbacks answered {dict(callbacks)} for {recordings} recordings")
    if malformed:
        problems.append(f"{malformed} publisher requests lacked callback_url, media_sid or audio")
    failed_tasks = Failure.objects.count()
    if failed_tasks:
        problems.append(f"{failed_tasks} django-q2 tasks failed, e.g. {Failure.objects.first().func}")
    return problems


def _log_errors(var_dir):
    found = Counter()
    for name in ("gunicorn.log", "qcluster.log"):
        try:
            text = (var_dir / name).read_text(errors="replace")
        except OSError:
            continue
        for pattern in ERROR_PATTERNS:
            if count := text.count(pattern):
                found[f"{name} {pattern!r}"] += count
    return ", ".join(f"{key} ×{n}" for key, n in found.items())


# --- the fast asynchronous publisher --------------------------------------------------------


class FastPublisherHandler(BaseHTTPRequestHandler):
    """202 with no body at once; the callback goes to the app's pool."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate sends: no delayed-ACK stall

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fields = multipart_fields(self.headers.get("Content-Type", ""), body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.app.accepted(self.headers.get("X-Twilio-RequestSid", ""), fields)

    def log_message(self, format, *args):
        pass


class FastPublisher:
    def __init__(self, account):
        self.auth = (account.sid, account.auth_token)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FastPublisherHandler)
        self.server.daemon_threads = True
        self.server.app = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pool = ThreadPoolExecutor(max_workers=CALLBACK_THREADS, thread_name_prefix="callback")
        self.local = threading.local()
        self.lock = threading.Lock()
        self.seen = []
        self.callbacks = Counter()
        self.malformed = 0

    def accepted(self, request_sid, fields):
        with self.lock:
            self.seen.append(request_sid)
            if not (fields.get("callback_url") and fields.get("media_sid") and fields.get("audio")):
                self.malformed += 1
                return
        self.pool.submit(self.call_back, fields["callback_url"].decode(), fields["media_sid"].decode())

    def call_back(self, url, media_sid):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = harness.session()
        try:
            reply = session.post(url, json={"transcript": f"analysis of {media_sid}"}, auth=self.auth, timeout=30)
            status = reply.status_code
        except requests.RequestException as error:
            status = type(error).__name__
        with self.lock:
            self.callbacks[status] += 1

    def requests_total(self):
        with self.lock:
            return len(self.seen)

    def summary(self):
        with self.lock:
            return list(self.seen), Counter(self.callbacks), self.malformed

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


def multipart_fields(content_type, body):
    """{name: bytes} of a multipart/form-data body (no nesting, as the platform sends)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return {}
    fields = {}
    for part in body.split(b"--" + match.group(1).encode())[1:-1]:
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = content[:-2]  # the CRLF before the next boundary
    return fields


def wav_bytes(seconds, rate=8000):
    """A real WAV, 16-bit mono PCM of a square-ish tone (the content does not matter)."""
    frames = int(seconds * rate)
    pcm = b"".join((b"\x00\x30" if (n // 20) % 2 else b"\x00\xd0") for n in range(frames))
    buffer = BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


# --- the cluster ------------------------------------------------------------------------------


class QCluster:
    """`manage.py qcluster` in its own process group (so a stop takes every worker), log to a file."""

    def __init__(self, log_path, on_spawn=None):
        self.log_path = log_path
        self.on_spawn = on_spawn  # told the pid at once, before the wait for "running"
        self.process = None

    def start(self):
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=harness.ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        if self.on_spawn is not None:
            self.on_spawn(self.process.pid)
        deadline = time.monotonic() + CLUSTER_READY_S
        while time.monotonic() < deadline:
            if "running" in self.log_path.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise harness.BenchError(f"qcluster did not start: {self.log_path.read_text(errors='replace')[-2000:]}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker the sentinel left behind
        except ProcessLookupError:
            pass


# --- CPU by process, from /proc ---------------------------------------------------------------


class Meter:
    """CPU time per component between start() and stop(), per recording.

    A component's ticks are utime+stime+cutime+cstime summed over its processes, so a process
    that exits in between (a recycled worker, a PostgreSQL backend) is still counted, in its
    parent's cutime. postgres and redis are the whole servers (every database on them)."""

    def __init__(self, gunicorn_pid, *, postgres, redis):
        self.gunicorn_pid = gunicorn_pid
        self.qcluster_pid = None
        self.roles = {}
        self.postgres = postgres
        self.redis = redis
        self.before = None
        self.components = ["gunicorn", "qcluster"] + ["postgres"] * postgres + ["redis"] * redis + ["bench"]

    def watch_cluster(self, pid):
        """The cluster's process tree: main -> sentinel -> workers, then monitor, then pusher
        (django-q2 spawns them in that order, by fork, so their pids ascend)."""
        self.qcluster_pid = pid
        table = _process_table()
        sentinels = [p for p, row in table.items() if row[1] == pid]
        if len(sentinels) == 1:
            spawned = sorted(p for p, row in table.items() if row[1] == sentinels[0])
            if len(spawned) == int(os.environ.get("Q_WORKERS", Q_WORKERS)) + 2:
                self.roles = {"monitor": spawned[-2], "pusher": spawned[-1]}

    def start(self):
        self.others = {}  # other databases' PostgreSQL processes: their last seen ticks
        self.before = self._snapshot()
        self.sampling = threading.Event()
        self.sampler = None
        if self.postgres:
            self.sampler = threading.Thread(target=self._sample, daemon=True)
            self.sampler.start()

    def _sample(self):
        """Keep the last CPU ticks of other databases' backends: one that exits while we
        measure lands in the postmaster's cutime, which is counted as ours, so it is taken
        out again (those that start and end between two samples stay in: a few ms each)."""
        while not self.sampling.wait(SAMPLE_S):
            self._note_others(_process_table())

    def _note_others(self, table):
        for pid, row in table.items():
            if row[0] == "postgres" and not _ours_or_shared(pid):
                self.others[pid] = row[3]

    def stop(self, recordings, unit="rec"):
        """Figures per recording, or per second of the phase with unit="s"."""
        self.sampling.set()
        if self.sampler is not None:
            self.sampler.join(timeout=STOP_TIMEOUT_S)
        after = self._snapshot()
        delta = {
            key: after[key] - self.before[key]
            for key in after
            if key in self.before and after[key] is not None and self.before[key] is not None
        }
        if self.postgres:
            exited = sum(ticks for pid, ticks in self.others.items() if pid not in self.table)
            delta["postgres"] = max(delta["postgres"] - exited, 0)
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        recordings = recordings if recordings > 0 else 1
        ms = {name: delta.get(name, 0) * tick_ms / recordings for name in self.components}
        ms["other"] = max(delta["_busy"] * tick_ms / recordings - sum(ms.values()), 0)
        parts = []
        for name, value in ms.items():
            if name == "qcluster" and self.qcluster_pid is None:
                continue
            part = f"{name} {value:.0f}"
            if name == "qcluster" and self.roles:
                roles = {role: delta.get(role, 0) * tick_ms / recordings for role in self.roles}
                workers = value - sum(roles.values())
                part += f" (workers {workers:.0f}, " + ", ".join(f"{r} {v:.0f}" for r, v in roles.items()) + ")"
            parts.append(part)
        figures = {
            "CPU busy (%)": 100 * delta["_busy"] / delta["_total"] if delta["_total"] else "",
            f"CPU ms/{unit} by process": " · ".join(parts),
            # Processes outside the benchmark (another job on the machine): rates are understated.
            "CPU outside bench (%)": 100 * ms["other"] / sum(ms.values()) if sum(ms.values()) else 0.0,
        }
        own = sum(value for name, value in ms.items() if name != "other")
        if own and unit == "rec":
            # What the phase's own CPU cost allows on this machine's cores, whatever else ran.
            figures["CPU ceiling (rec/s)"] = len(os.sched_getaffinity(0)) * 1000 / own
        if self.postgres and "_sessions" in delta:
            figures[f"PG sessions/{unit}"] = delta["_sessions"] / recordings
        return figures

    def _snapshot(self):
        table = self.table = _process_table()
        if self.postgres:
            self._note_others(table)
        children = {}
        for pid, row in table.items():
            children.setdefault(row[1], []).append(pid)

        def tree(root):
            found, todo = set(), [root]
            while todo:
                pid = todo.pop()
                if pid in table and pid not in found:
                    found.add(pid)
                    todo += children.get(pid, [])
            return found

        groups = {"gunicorn": tree(self.gunicorn_pid), "bench": {os.getpid()}}
        if self.qcluster_pid is not None:
            groups["qcluster"] = {pid for pid, row in table.items() if row[2] == self.qcluster_pid}
        taken = set().union(*groups.values())
        if self.postgres:
            groups["postgres"] = {
                pid for pid, row in table.items() if row[0] == "postgres" and pid not in taken and _ours_or_shared(pid)
            }
        if self.redis:
            groups["redis"] = {
                pid for pid, row in table.items() if row[0].startswith("redis-server") and pid not in taken
            }
        ticks = {name: sum(table[pid][3] for pid in pids) for name, pids in groups.items()}
        for role, pid in self.roles.items():
            ticks[role] = table[pid][3] if pid in table else None
        with open("/proc/stat") as stat:
            user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in stat.readline().split()[1:9])
        ticks["_busy"] = user + nice + system + irq + softirq + steal
        ticks["_total"] = ticks["_busy"] + idle + iowait
        if self.postgres:
            ticks["_sessions"] = _pg_sessions()
        return ticks


def _ours_or_shared(pid):
    """A PostgreSQL process that is not a backend of another database: the postmaster (whose
    cutime holds every exited backend, ours and others'), its helpers, our backends."""
    title = _cmdline(pid)
    if "parallel worker" in title:
        return False  # our queries are far too small for parallel plans
    backend = re.match(r"postgres: [^:]+: (\S+) (\S+) ", title)
    return backend is None or backend.group(2) == PG_BENCH_DB


def _process_table():
    """{pid: (comm, ppid, pgrp, cpu ticks incl. reaped children)} of every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry.name)] = (comm, int(fields[1]), int(fields[2]), sum(int(x) for x in fields[11:15]))
    return table


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    else:
        # .venv/bin/python bench/bench_recordings.py [config-key ...] [NAME=VALUE ...]: a quick
        # look at some configurations, with extra settings for the platform (e.g. Q_POLL=0.05).
        keys = [arg for arg in sys.argv[1:] if "=" not in arg]
        extra = dict(arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg)
        chosen = [config for config in CONFIGS if not keys or config["key"] in keys]
        for row in run(chosen, extra):
            print(row)
