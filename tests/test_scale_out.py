"""The scaled topology for real: two gunicorn web processes and two qcluster workers on
PostgreSQL and Redis, shared media storage, the example publishers; a lookup and a
recording end to end through them, each step through a different web process."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.private_services import free_port
from tests.recording_helpers import wav_bytes

ROOT = Path(__file__).resolve().parents[1]
PG = ("127.0.0.1", 5432)
REDIS_DB = 13


def reachable(address):
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(address) == 0


pytestmark = pytest.mark.skipif(
    not (reachable(PG) and reachable(("127.0.0.1", 6379))),
    reason="needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (as in CI): start them to run it",
)


class Topology:
    def __init__(self, tmp):
        import psycopg

        self.database = f"scaleout_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        import redis

        redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()
        self.web_ports = [free_port(), free_port()]
        self.publisher_port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "MARKETPLACE_BASE_URL": f"http://127.0.0.1:{self.web_ports[0]}",
            "MEDIA_ROOT": str(tmp / "media"),  # the storage every process shares
            "MARKETPLACE_VAR_DIR": str(tmp / "var"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "Q_WORKERS": "1",
            "TASKS_SYNC": "0",
            "LOG_FORMAT": "json",
        }
        self.processes = []

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self, *command):
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def wait_ready(self, url, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet, or still loading

            time.sleep(0.2)
        raise AssertionError(f"{url} never became ready")

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


@pytest.fixture
def topology():
    tmp = Path(tempfile.mkdtemp(prefix="scaleout-"))
    scaled = Topology(tmp)
    try:
        yield scaled
    finally:
        scaled.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def manifest_for(name, url):
    manifest = json.loads((ROOT / "publishers" / "manifests" / f"{name}.json").read_text())
    manifest["endpoint"]["url"] = url + manifest["endpoint"]["url"].split("8101", 1)[1]
    return json.dumps(manifest)


def test_two_web_processes_and_two_workers_on_postgres_and_redis(topology, tmp_path):
    topology.manage("migrate", "--noinput")
    publisher = json.loads(topology.manage("create_account", "--name", "Publisher", "--publisher", "--json"))
    customer = json.loads(topology.manage("create_account", "--name", "Customer", "--json"))
    topology.manage("add_credit", "--account", customer["sid"], "--amount", "10", "--reason", "test")
    publishers_url = f"http://127.0.0.1:{topology.publisher_port}"
    listings = {}
    for name in ("anagram", "voice_insights"):
        path = tmp_path / f"{name}.json"
        path.write_text(manifest_for(name, publishers_url))
        printed = topology.manage(
            "import_listing", str(path), "--publisher", publisher["sid"], "--state", "active", "--json"
        )
        listings[name] = json.loads(printed)["sid"]

    topology.start(
        sys.executable,
        "-m",
        "publishers",
        "--port",
        str(topology.publisher_port),
        "--auth-token",
        publisher["auth_token"],
    )
    for port in topology.web_ports:
        topology.start(
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "marketplace.wsgi",
        )
    for _ in range(2):
        topology.start(sys.executable, "manage.py", "qcluster")
    web = [f"http://127.0.0.1:{port}" for port in topology.web_ports]
    for base in web:
        topology.wait_ready(f"{base}/readyz")
    topology.wait_ready(f"{publishers_url}/healthz")
    auth = (customer["sid"], customer["auth_token"])

    for name, configuration in (("anagram", {"min_word_length": 3}), ("voice_insights", {})):
        reply = requests.post(
            f"{web[0]}/v1/InstalledAddOns",
            data={
                "AvailableAddOnSid": listings[name],
                "AcceptTermsOfService": "true",
                "Configuration": json.dumps(configuration),
                "UniqueName": name,
            },
            auth=auth,
            timeout=10,
        )
        assert reply.status_code == 201, reply.text

    # A lookup through the second web process, with what the first one installed.
    looked_up = requests.get(
        f"{web[1]}/v1/PhoneNumbers/+18778894546", params={"AddOns": "anagram"}, auth=auth, timeout=10
    )
    result = looked_up.json()["add_ons"]["results"]["anagram"]
    assert result["status"] == "successful" and "+18778TWILIO" in result["result"]["anagrams"]

    # A recording uploaded to one web process, analysed by a worker, called back to the
    # first web process, read through the second one.
    uploaded = requests.post(
        f"{web[0]}/sandbox/v1/Recordings", files={"Audio": ("call.wav", wav_bytes(1.5))}, auth=auth, timeout=10
    )
    assert uploaded.status_code == 201, uploaded.text
    recording = uploaded.json()["sid"]
    results_url = f"{web[1]}/2010-04-01/Accounts/{customer['sid']}/Recordings/{recording}/AddOnResults.json"
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        results = requests.get(results_url, auth=auth, timeout=10).json()["add_on_results"]
        status = results[0]["status"] if results else None
        if status in ("completed", "failed"):
            break
        time.sleep(0.3)
    assert status == "completed"
    payloads = requests.get(
        f"{web[1]}/2010-04-01/Accounts/{customer['sid']}/Recordings/{recording}/AddOnResults/{results[0]['sid']}"
        "/Payloads.json",
        auth=auth,
        timeout=10,
    ).json()["payloads"]
    data = requests.get(
        f"{web[0]}{payloads[0]['subresource_uris']['data']}", auth=auth, timeout=10, allow_redirects=False
    ).json()
    analysis = requests.get(data["redirect_to"], timeout=10).json()
    assert analysis["media_sid"] == recording and analysis["duration_ms"] == 1500
