"""PostgreSQL and Redis restarted while recordings are being processed, with the deployed
topology for real: a gunicorn web process and a django-q2 cluster on a PostgreSQL and a
Redis server of this test's own (tests/private_services.py), and a publisher on loopback
that accepts with 202 and calls back from a thread, retrying as the contract asks.

After each outage: every result ends completed or failed with a reason, none is lost,
each completed one has one payload and is billed exactly once, the customer is told of
each, and a request made during the outage got a clear 503 and left nothing behind.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import requests
from werkzeug import Response

from tests import private_services
from tests.recording_helpers import recording_manifest, wav_bytes

ROOT = Path(__file__).resolve().parents[1]
PRICE = Decimal("0.0100")  # per started minute (recording_manifest's pricing)
CREDIT = Decimal("10")

pytestmark = pytest.mark.skipif(
    private_services.missing() is not None, reason=f"cannot run private servers: {private_services.missing()}"
)


class Publisher:
    """Accepts every recording with 202 and posts the result from a thread, retrying 5xx and
    refused connections for up to 60 s. `hold` keeps each request open until released."""

    def __init__(self, httpserver):
        self.seen = []
        self.callbacks = {}  # result SID -> the statuses its callback attempts got
        self.callback_urls = []
        self.hold = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.account = None
        httpserver.expect_request("/analyse").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/analyse")

    def handle(self, request):
        sid = request.headers["X-Twilio-RequestSid"]
        self.seen.append(sid)
        form = request.form.to_dict()
        if self.hold:
            self.arrived.set()
            assert self.release.wait(timeout=60)
        self.callback_urls.append(form["callback_url"])
        threading.Thread(target=self.call_back, args=(sid, form["callback_url"]), daemon=True).start()
        return Response(status=202)

    def call_back(self, sid, url):
        statuses = self.callbacks.setdefault(sid, [])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                reply = requests.post(url, json={"transcript": f"heard {sid}"}, auth=self.account, timeout=10)
                statuses.append(reply.status_code)
                if reply.status_code < 500:
                    return
            except requests.ConnectionError:
                statuses.append("refused")
            time.sleep(0.3)


class Stack:
    def __init__(self, folder, publisher_url, notify_url):
        self.folder = folder
        self.postgres = private_services.PrivatePostgres().start()
        self.redis = private_services.PrivateRedis(folder / "redis").start()
        self.web_port = private_services.free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.media = folder / "media"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": secrets.token_urlsafe(60),
            "MARKETPLACE_BASE_URL": self.base,
            "MEDIA_ROOT": str(self.media),
            "MARKETPLACE_VAR_DIR": str(folder / "var"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "TASKS_SYNC": "0",
            "Q_WORKERS": "1",
            "Q_TIMEOUT": "30",
            "Q_RETRY": "40",
            "Q_POLL": "0.1",
            "DISPATCH_LEASE_S": "3",
            "NOTIFY_BACKOFF_S": "0.2,0.5",
            "LOG_FORMAT": "json",
            "CONN_MAX_AGE": "60",  # persistent connections, as in production: broken by the restart
        }
        self.processes = {}
        self.manage("migrate", "--noinput")
        publisher = json.loads(self.manage("create_account", "--name", "Publisher", "--publisher", "--json"))
        self.customer = json.loads(self.manage("create_account", "--name", "Customer", "--json"))
        self.publisher_auth = (publisher["sid"], publisher["auth_token"])
        self.auth = (self.customer["sid"], self.customer["auth_token"])
        self.recordings_url = f"{self.base}/2010-04-01/Accounts/{self.customer['sid']}/Recordings.json"
        self.manage("add_credit", "--account", self.customer["sid"], "--amount", str(CREDIT), "--reason", "test")
        manifest = folder / "manifest.json"
        manifest.write_text(json.dumps(recording_manifest(publisher_url)))
        listing = json.loads(
            self.manage("import_listing", str(manifest), "--publisher", publisher["sid"], "--state", "active", "--json")
        )
        self.start_web()
        self.start_worker()
        installed = requests.post(
            f"{self.base}/v1/InstalledAddOns",
            data={
                "AvailableAddOnSid": listing["sid"],
                "AcceptTermsOfService": "true",
                "Configuration": json.dumps({"callback_url": notify_url}),
            },
            auth=self.auth,
            timeout=10,
        )
        assert installed.status_code == 201, installed.text

    def manage(self, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def _start(self, name, *command):
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_web(self):
        self._start(
            "web",
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "marketplace.wsgi",
        )
        wait_for(lambda: _answers(f"{self.base}/healthz"), "the web process never answered")

    def start_worker(self):
        self._start("worker", sys.executable, "manage.py", "qcluster")
        wait_for(lambda: b"running" in (self.folder / "worker.log").read_bytes(), "the cluster never started")

    def stop(self, name):
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def upload(self):
        return requests.post(
            f"{self.base}/sandbox/v1/Recordings",
            files={"Audio": ("call.wav", wav_bytes(1.5))},
            auth=self.auth,
            timeout=30,
        )

    def sweep(self):
        """The periodic sweep's work (scheduled every minute), done now."""
        printed = self.manage(
            "shell", "-c", "import json; from recordings import tasks; print(json.dumps(tasks.sweep_results()))"
        )
        return json.loads(printed.strip().splitlines()[-1])  # after any log lines

    def query(self, sql, *params):
        with psycopg.connect(self.postgres.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(sql, params).fetchall()

    def results(self):
        return self.query(
            "SELECT sid, status, error_code, error_message, billable_minutes, customer_notification FROM recordings_addonresult"
            " ORDER BY id"
        )

    def logs(self, tail=6000):
        return "\n".join(
            f"--- {path.name} ---\n" + path.read_text(errors="replace")[-tail if tail else 0 :]
            for path in sorted(self.folder.glob("*.log"))
        )

    def close(self):
        for name in list(self.processes):
            self.stop(name)
        self.redis.close()
        self.postgres.close()


def _answers(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_for(condition, what, timeout=60, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def notified(httpserver):
    """The customer's result webhook: every notification it receives, by result SID."""
    received = []
    httpserver.expect_request("/notify").respond_with_handler(
        lambda request: received.append(request.form["AddOnResultSid"]) or Response("ok")
    )
    return received


@pytest.fixture
def publisher(httpserver):
    return Publisher(httpserver)


@pytest.fixture
def stack(tmp_path, httpserver, publisher, notified):
    folder = Path(tmp_path)
    built = Stack(folder, publisher.url, httpserver.url_for("/notify"))
    publisher.account = built.publisher_auth
    try:
        yield built
    finally:
        print(built.logs())  # shown when the test fails
        built.close()


def assert_all_settled(stack, notified, recordings):
    """Each recording's result completed, with one payload, billed once; the customer told."""
    rows = stack.results()
    assert [(status, code) for _, status, code, *_ in rows] == [("completed", None)] * len(recordings), rows
    sids = [row[0] for row in rows]
    payloads = stack.query(
        "SELECT r.sid, count(p.id) FROM recordings_addonresult r LEFT JOIN recordings_payload p"
        " ON p.add_on_result_id = r.id GROUP BY r.sid"
    )
    assert sorted(payloads) == sorted((sid, 1) for sid in sids)
    events = stack.query("SELECT reference, quantity FROM billing_billingevent ORDER BY id")
    assert sorted(events) == sorted((sid, 1) for sid in sids)  # one started minute each, once
    (balance,) = stack.query(
        "SELECT b.amount FROM billing_balance b JOIN accounts_account a ON a.id = b.account_id WHERE a.sid = %s",
        stack.customer["sid"],
    )
    assert balance[0] == CREDIT - PRICE * len(sids)
    wait_for(lambda: set(notified) == set(sids), f"the customer was not told of every result: {notified}")
    assert all(row[5] == "delivered" for row in stack.results())
    stored = sorted(p.name for p in (stack.media / "recordings").rglob("*.wav"))
    assert stored == sorted(f"{sid}.wav" for sid in recordings)  # nothing left by refused uploads
    return sids


def test_postgres_restarted_while_a_recording_is_processed(stack, publisher, notified):
    publisher.hold = True
    first = stack.upload()
    assert first.status_code == 201, first.text
    assert publisher.arrived.wait(30), "the worker never called the publisher"

    # The publisher has the audio; the database goes down before the worker hears back.
    stack.postgres.stop("immediate")
    publisher.release.set()  # the worker gets its 202; the callback meets a dead database
    during = stack.upload()
    assert during.status_code == 503, during.text
    assert during.json()["code"] == 20503 and during.headers["Retry-After"]
    listed = requests.get(stack.recordings_url, auth=stack.auth, timeout=10)
    assert listed.status_code == 503 and listed.json()["code"] == 20503
    page = requests.get(f"{stack.base}/console/", cookies={"sessionid": "a-signed-in-user"}, timeout=10)
    assert page.status_code == 503 and "briefly unavailable" in page.text
    time.sleep(2)
    stack.postgres.start()

    publisher.hold = False
    wait_for(lambda: stack.results()[0][1] == "completed", "the first result never completed")
    assert 503 in publisher.callbacks[publisher.seen[0]]  # its callback met the outage
    second = stack.upload()  # the same processes carry on
    assert second.status_code == 201, second.text
    wait_for(lambda: len(stack.results()) == 2 and stack.results()[1][1] == "completed", "the second never completed")
    assert stack.sweep() == {"failed": 0, "redelivered": 0, "notified": 0}

    sids = assert_all_settled(stack, notified, [first.json()["sid"], second.json()["sid"]])
    assert set(publisher.seen) == set(sids)
    # The worker recorded the first call once the database was back, so nothing resent it.
    assert stack.query("SELECT count(*) FROM addons_invocation WHERE sid = %s", sids[0]) == [(1,)]
    assert publisher.seen.count(sids[0]) == 1
    # The callbacks (and their 503s) were logged by path, never with their one-time tokens.
    logs = stack.logs(tail=None)
    assert "/callbacks/v1/AddOnResults/" in logs and "[redacted]" in logs
    assert not [url for url in publisher.callback_urls if url.rsplit("/", 1)[1] in logs]


def test_redis_restarted_while_recordings_are_queued_and_processed(stack, publisher, notified):
    # A recording waits in Redis while no worker runs; the crash loses its task.
    stack.stop("worker")
    lost = stack.upload()
    assert lost.status_code == 201, lost.text
    stack.redis.stop()

    # Without Redis the API still answers (rate limits fail open), a recording is still
    # taken (its task is left to the sweep), and readiness says what is missing.
    during = stack.upload()
    assert during.status_code == 201, during.text
    listed = requests.get(stack.recordings_url, auth=stack.auth, timeout=10)
    assert listed.status_code == 200 and len(listed.json()["recordings"]) == 2
    ready = requests.get(f"{stack.base}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["broker"].startswith("unreachable")

    stack.redis.start()
    publisher.hold = True
    stack.start_worker()
    time.sleep(3.5)  # both are past their dispatch lease: the sweep sends them again
    assert stack.sweep()["redelivered"] == 2
    assert publisher.arrived.wait(30), "the worker never called the publisher"

    # One is with the publisher, held, when Redis dies again: its acceptance and its
    # callback meet no Redis, and the customer's notification cannot be queued.
    stack.redis.stop()
    publisher.release.set()
    publisher.hold = False
    wait_for(lambda: "completed" in [row[1] for row in stack.results()], "the held result never completed")
    stack.redis.start()

    # What Redis lost is found by the sweep; the cluster carries on by itself.
    swept = {"failed": 0, "redelivered": 0, "notified": 0}

    def settled():
        rows = stack.results()
        if all(row[1] == "completed" and row[5] == "delivered" for row in rows):
            return True
        time.sleep(3.5)  # past the dispatch lease
        for key, count in stack.sweep().items():
            swept[key] += count
        return False

    wait_for(settled, "the results never settled", timeout=90, interval=0)
    # The held result's notification was queued while Redis was down: only the sweep sent it.
    assert swept["notified"] >= 1 and swept["failed"] == 0
    third = stack.upload()  # and new work flows through the restarted Redis as usual
    assert third.status_code == 201, third.text
    wait_for(lambda: len(stack.results()) == 3 and stack.results()[2][1] == "completed", "a new recording stalled")

    recordings = [lost.json()["sid"], during.json()["sid"], third.json()["sid"]]
    sids = assert_all_settled(stack, notified, recordings)
    assert set(publisher.seen) == set(sids)
