"""A real django-q2 cluster (`manage.py qcluster`) in its own process, on the test database
and the same broker as the tests (the ORM broker, or Redis when REDIS_URL is set)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def test_database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    def __init__(self, env):
        self.env = env
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes every worker
        )
        self._wait_until_running()
        return self

    def _wait_until_running(self, timeout=30):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode(errors="replace")
            lines.append(line)
            if "running" in line:
                return
            if self.process.poll() is not None:
                break
        raise RuntimeError("qcluster did not start:\n" + "".join(lines))

    def kill(self):
        """As a machine dies: every process of the cluster at once, no cleanup."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def qcluster(live_server, settings):
    """Start clusters as the test asks; each is stopped at the end. Tasks go to the broker."""
    settings.TASKS_SYNC = False
    settings.MARKETPLACE_BASE_URL = live_server.url
    clusters = []

    def start():
        # Read when started, so a setting the test changed first reaches the cluster too.
        clusters.append(Cluster(_environment(live_server, settings)).start())
        return clusters[-1]

    yield start
    for cluster in clusters:
        cluster.stop()


def _environment(live_server, settings):
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # callback tokens are signed with it
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "MARKETPLACE_BASE_URL": live_server.url,
        "TASKS_SYNC": "0",
        "Q_WORKERS": "1",
        "Q_TIMEOUT": "8",
        "Q_RETRY": "10",
        "Q_POLL": "0.1",
        "DISPATCH_LEASE_S": str(settings.DISPATCH_LEASE_S),
        "NOTIFY_BACKOFF_S": "0.05",
    }


def wait_for(condition, timeout=30, interval=0.1):
    """Poll until condition() is truthy (a bounded loop; the cluster works on its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


__all__ = ["qcluster", "wait_for", "settings"]
