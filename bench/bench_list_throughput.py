"""List throughput: `GET /v1/AvailableAddOns?PageSize=50` through the platform (the shared
gunicorn, HTTP Basic, DRF, selectors, serializers, signed page tokens) against a bare Django view
answering the same 50 rows as JSON (`bench/bare_wsgi.py`: same settings, database and middleware,
one `Listing.objects.values(...)` query, no auth or DRF) under a second gunicorn with the same
workers and threads, both up at once on the harness database with 200 extra active listings
(imported through the real service). Load: a bounded client in this process, CONCURRENCY
threads each with one keep-alive `http.client` connection, looping for a fixed window; a warm-up
window per server first, then ROUNDS windows per server alternating platform, bare, platform...
req/s = responses / window wall time (every response checked 200, body length as expected);
each figure is the median over the rounds; ratio = platform / bare. Server CPU ms/req = the
gunicorn processes' utime+stime (/proc) in a window / its responses; client CPU = this process's
CPU time over the window's wall time (it shares the machine's cores with the servers); load avg =
the machine's 1-minute load average after each window (median), other work included.
"""

import http.client
import statistics
import threading
import time
from base64 import b64encode
from pathlib import Path

import harness

LISTINGS = 200
PAGE_PATH = "/v1/AvailableAddOns?PageSize=50"
CONCURRENCY = 16  # = 2 workers × 8 threads of the shared platform
WARMUP_S = 3.0
WINDOW_S = 6.0
ROUNDS = 3
REQUEST_TIMEOUT_S = 10
TARGET_RATIO = 0.5
BENCH_DIR = Path(__file__).resolve().parent


class BareServer(harness.Platform):
    """bench/bare_wsgi.py under gunicorn with the platform's workers and threads."""

    def __init__(self, var_dir):
        super().__init__(var_dir)
        self.log_path = var_dir / "gunicorn-bare.log"
        self.command = [
            self.command[0],
            "-m",
            "gunicorn",
            "bare_wsgi:application",
            "--pythonpath",
            str(BENCH_DIR),
            "-b",
            f"127.0.0.1:{self.port}",
            *harness.GUNICORN_ARGS,
        ]


def run():
    publisher, _ = harness.accounts("list throughput")
    from accounts.services import create_account

    # One customer per client connection: each stays within its account's API rate limit.
    customers = [create_account(friendly_name=f"list throughput customer {n}") for n in range(CONCURRENCY)]
    _seed(publisher)
    platform = harness.platform()
    bare = BareServer(harness.django_ready())
    try:
        bare.start()
        servers = {
            "platform": (platform, [_basic(customer) for customer in customers]),
            "bare": (bare, [{}] * CONCURRENCY),
        }
        expected = _check_same_rows(servers)
        for label, (server, headers) in servers.items():  # warm-up: imports, caches, connections
            _window(server, headers, expected[label], WARMUP_S)
        windows = {label: [] for label in servers}
        for _ in range(ROUNDS):
            for label, (server, headers) in servers.items():
                windows[label].append(_window(server, headers, expected[label], WINDOW_S))
    finally:
        bare.stop()
    return [as_row(columns) for columns in _rows(windows, expected)]


def as_row(columns):
    return harness.row_from_columns(
        columns, measured="platform / bare", unit="× the bare view's req/s", target=f"≥ {TARGET_RATIO}"
    )


def _basic(account):
    return {"Authorization": "Basic " + b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()}


def _seed(publisher):
    """LISTINGS active listings through the real import service (a realistic schema each)."""
    from addons.services import import_listing

    for number in range(LISTINGS):
        manifest = harness.bundled_manifest("anagram", "http://127.0.0.1:9")  # never called
        manifest["unique_name"] = f"bench_list_{number:03d}"
        manifest["friendly_name"] = f"Bench listing {number:03d}"
        import_listing(manifest=manifest, publisher=publisher, state="active")


def _check_same_rows(servers):
    """Both answer the same 50 rows, field for field; their body lengths, for the load checks."""
    import json

    bodies, lengths = {}, {}
    for label, (server, headers) in servers.items():
        status, body = _get_once(server, headers[0])
        if status != 200:
            raise harness.BenchError(f"{label}: {status} {body[:300]!r}")
        bodies[label] = json.loads(body)["available_add_ons"]
        lengths[label] = len(body)
    if len(bodies["platform"]) != 50 or bodies["platform"] != bodies["bare"]:
        raise harness.BenchError("the bare view does not answer the platform's 50 rows")
    return lengths


def _get_once(server, headers):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", PAGE_PATH, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _window(server, headers, expected_length, seconds):
    """CONCURRENCY keep-alive clients for `seconds`: figures of the window."""
    start_line = threading.Barrier(CONCURRENCY + 1)
    outcomes = [None] * CONCURRENCY
    stop = {"at": None}

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_S)
        latencies, failures = [], []
        try:
            connection.connect()
            start_line.wait(timeout=30)
            while time.monotonic() < stop["at"]:
                started = time.perf_counter()
                try:
                    connection.request("GET", PAGE_PATH, headers=headers[index])
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as error:
                    failures.append(type(error).__name__)
                    connection.close()  # http.client reconnects on the next request
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200 or len(body) != expected_length:
                    failures.append(f"{response.status}/{len(body)} bytes")
        finally:
            connection.close()
            outcomes[index] = (latencies, failures)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    cpu_server = _server_cpu_s(server)
    cpu_client = time.process_time()
    stop["at"] = time.monotonic() + seconds
    started = time.perf_counter()
    start_line.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 5)
    wall = time.perf_counter() - started
    if any(thread.is_alive() for thread in threads) or None in outcomes:
        raise harness.BenchError(f"a load client did not finish within {seconds + REQUEST_TIMEOUT_S + 5} s")
    server_cpu = _server_cpu_s(server) - cpu_server
    client_cpu = time.process_time() - cpu_client
    latencies = [ms for per_thread, _ in outcomes for ms in per_thread]
    failures = [f for _, per_thread in outcomes for f in per_thread]
    if failures:
        raise harness.BenchError(f"{len(failures)} failed requests, e.g. {failures[:3]}")
    return {
        "load": float(Path("/proc/loadavg").read_text().split()[0]),  # the 1-minute load average at the end
        "rps": len(latencies) / wall,
        "requests": len(latencies),
        "p50": harness.p50(latencies),
        "p99": harness.p99(latencies),
        "server_cpu_ms": server_cpu * 1000 / len(latencies),
        "client_cpu": client_cpu / wall,
    }


def _server_cpu_s(server):
    """utime + stime of the gunicorn master and its workers, in seconds."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    master = server.process.pid
    total = 0
    for pid in [master, *_children(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / tick


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _rows(windows, lengths):
    medians = {
        label: {key: statistics.median(w[key] for w in runs) for key in runs[0]} for label, runs in windows.items()
    }
    ratio = medians["platform"]["rps"] / medians["bare"]["rps"]
    rows = []
    for label, title in (("platform", "platform (DRF, auth, tokens)"), ("bare", "bare Django view (baseline)")):
        m = medians[label]
        rows.append(
            {
                "name": f"{title}, PageSize=50, {CONCURRENCY} clients, median of {ROUNDS} × {WINDOW_S:.0f} s",
                "req/s": m["rps"],
                "req/s per round": " / ".join(f"{w['rps']:.0f}" for w in windows[label]),
                "p50 (ms)": m["p50"],
                "p99 (ms)": m["p99"],
                "server CPU ms/req": m["server_cpu_ms"],
                "client CPU (cores)": m["client_cpu"],
                "body (bytes)": lengths[label],
                "load avg 1 min": m["load"],
                "platform / bare": ratio if label == "platform" else "",
                "verdict": (
                    f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}: {ratio:.2f}× the bare view's req/s "
                    f"vs target ≥ {TARGET_RATIO}×"
                    if label == "platform"
                    else "baseline"
                ),
            }
        )
    cpu_ratio = medians["platform"]["server_cpu_ms"] / medians["bare"]["server_cpu_ms"]
    rows.append(
        {
            "name": "server CPU per request, platform / bare",
            "platform / bare": cpu_ratio,
            "verdict": f"no target; reported (the platform spends {cpu_ratio:.2f}× the bare view's CPU per request)",
        }
    )
    return rows


if __name__ == "__main__":
    try:
        for row in run():
            print(row)
    finally:
        harness.close()
