"""Concurrent lookups: 200 clients, each a customer account of its own (so each stays within its
account's API rate limit) with the add-on installed and credit, each send one
`GET /v1/PhoneNumbers/+18778894546?AddOns=<one add-on>` at the same moment (released by a
barrier, each on its own new connection), against a
publisher that answers `{"ok": true}` after 1 s (a ThreadingHTTPServer in this process, a thread
per request, listen backlog 1024). The platform runs under its own gunicorn for this benchmark,
`-w 2 --threads 100` (gthread: 200 request threads, one per client), on the harness's SQLite
database, in four configurations: the engine's pool size (INVOCATION_THREADS, per worker
process) as shipped, 64, and 256; each with gunicorn's default --worker-connections (1000: a
gthread worker accepts more connections than it has threads, and the two workers race for
them) and with --worker-connections 100 (a worker takes no more than its threads). Per configuration: a concurrent warm-up, the baseline (BASELINE single lookups
one after another, p50), then two bursts of 200. Per burst: how many answered 200 with the
add-on `successful` and its result `{"ok": true}`, the failures by code and message, latency
from each client's send (p50 and max), the spread of the clients' sends, the largest request
time gunicorn logged (%(L)s) and how the two workers split the burst (access log pids); the
workers' RSS and threads (/proc/<pid>/status of the master's children) before the first burst
and after each; from the publisher's own clock, each lookup's time before its call arrived and
after its answer left, and the most calls the publisher held at once; the CPU time gunicorn
(master and workers, /proc) and this process (clients and publisher) spent during the burst,
and the machine's 1-minute load average (other work on the machine shares its cores).
The publisher's circuit (the engine's breaker, in the shared cache) is reset before each burst
and its state after the burst reported. In the first configuration one more burst: the same 200
lookups from one account, against its API rate limit (API_RATE_LIMIT, per account).
Targets: all 200 answered successfully; none starved = max latency under 2 × the publisher's 1 s (no lookup waited for another's call to finish; the add-on deadline is
2 s); memory bounded = the workers' RSS after the second burst within 10 % of after the first.
"""

import os
import statistics
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path

import harness
import requests

E164 = "+18778894546"
CLIENTS = 200
DELAY_S = 1.0
WORKERS = 2
THREADS = 100
# (INVOCATION_THREADS per worker process, extra gunicorn arguments): the shipped pool (64) and a
# bigger one, each as gunicorn accepts by default and with --worker-connections = threads.
CONFIGS = (
    (64, ()),
    (256, ()),
    (64, ("--worker-connections", str(THREADS))),
    (256, ("--worker-connections", str(THREADS))),
)
BURSTS = 2
BASELINE = 5
WARMUP_CLIENTS = 8
CLIENT_TIMEOUT_S = 30
JOIN_TIMEOUT_S = 60
STARVED_MS = 2 * DELAY_S * 1000
RSS_GROWTH_LIMIT = 0.10
UNIQUE_NAME = "bench_concurrent_slow"


class TimedPublisher(harness.SlowPublisher):
    """The harness's slow publisher, noting when each request SID arrived and was answered."""

    def do_POST(self):
        arrived = time.time()
        try:
            super().do_POST()
        finally:
            self.server.seen[self.headers.get("X-Twilio-RequestSid")] = (arrived, time.time())


class WidePublisher(ThreadingHTTPServer):
    """The slow publisher with a listen backlog for 200+ connections at once."""

    request_queue_size = 1024
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), TimedPublisher)
        self.delay_s = DELAY_S
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.seen = {}  # request SID -> (arrived, answered), wall clock
        self.broken = 0  # answers the platform no longer waited for (its watchdog shut the socket)

    def handle_error(self, request, client_address):
        self.broken += 1  # instead of a traceback on stderr


class ConcurrentPlatform(harness.Platform):
    """The platform under gunicorn with THREADS threads per worker and a given engine pool."""

    def __init__(self, var_dir, pool, workers=WORKERS, threads=THREADS, extra=()):
        super().__init__(var_dir)
        self.pool, self.workers, self.threads, self.extra = pool, workers, threads, list(extra)
        tag = f"{workers}x{threads}-{pool}{'-'.join(['', *self.extra]).replace('--', '')}"
        self.log_path = var_dir / f"gunicorn-concurrent-{tag}.log"
        self.access_log = var_dir / f"gunicorn-concurrent-{tag}-access.log"
        self.command = [
            self.command[0],
            "-m",
            "gunicorn",
            "marketplace.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--no-control-socket",
            *self.extra,
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            "%(p)s %(s)s %(L)s %(U)s",
        ]

    def start(self):
        saved = os.environ.get("INVOCATION_THREADS")
        os.environ["INVOCATION_THREADS"] = str(self.pool)  # read by the settings in each worker
        try:
            return super().start()
        finally:
            if saved is None:
                os.environ.pop("INVOCATION_THREADS", None)
            else:
                os.environ["INVOCATION_THREADS"] = saved

    def description(self):
        return (
            " ".join([f"-w {self.workers} --threads {self.threads}", *self.extra]) + f", INVOCATION_THREADS={self.pool}"
        )


def run():
    harness.django_ready()
    from accounts.services import create_account
    from billing.services import add_credit

    publisher = create_account(friendly_name="concurrent lookups publisher", is_publisher=True)
    server = WidePublisher()
    server.account_sid = publisher.sid  # its circuit is this account's endpoint
    rows = []
    with harness.serving(server):
        manifest = harness.plain_manifest(UNIQUE_NAME, f"{server.url}/lookup")
        from addons.services import import_listing, install_add_on

        listing = import_listing(manifest=manifest, publisher=publisher, state="active").listing
        # One customer per client: each within its own API rate limit (API_RATE_LIMIT, per account).
        customers = []
        for number in range(CLIENTS):
            customer = create_account(friendly_name=f"concurrent lookups customer {number}")
            # The add-on is priced per use: it runs only on a balance that covers it.
            add_credit(account=customer, amount="100.00", reason="concurrent lookups benchmark")
            install_add_on(
                account=customer,
                available_add_on_sid=listing.sid,
                accept_terms_of_service=True,
                configuration={},
                unique_name=UNIQUE_NAME,
            )
            customers.append(customer)
        for index, (pool, extra) in enumerate(CONFIGS):
            platform = ConcurrentPlatform(harness.django_ready(), pool, extra=extra)
            try:
                platform.start()
                rows += _measure(platform, customers, server, one_account=index == 0)
            finally:
                platform.stop()
    return [as_row(columns, first=rows[0]["name"]) for columns in rows]


def as_row(columns, first):
    """Judged bursts of the first configuration (the engine's pool as shipped) head the summary."""
    shipped = columns["name"].split(":")[0] == first.split(":")[0]
    return harness.row_from_columns(
        columns,
        measured="max (ms)",
        unit="ms max",
        target=f"{CLIENTS}/{CLIENTS} successful, max < {2 * DELAY_S * 1000:.0f} ms, RSS growth ≤ {RSS_GROWTH_LIMIT:.0%}",
        headline=shipped and harness.judged(columns["verdict"]) or columns["verdict"].startswith("FAILED"),
    )


def _reset_circuit(publisher):
    """Each burst starts with the publisher's circuit closed, whatever the previous one did."""
    from django.core.cache import cache

    from invocation import circuit

    key = circuit._key(circuit.Endpoint(publisher.account_sid, publisher.url + "/lookup"))
    cache.delete_many([key, key + ":probe"])
    return key


def _circuit_state(key):
    from django.core.cache import cache

    state = cache.get(key)
    if not state:
        return "closed"
    if state.get("opened_until", 0) > time.time():
        return f"open ({state['failures']} failures)"
    return f"closed, {state['failures']} failures counted"


def _measure(platform, customers, publisher, *, one_account=False):
    url = f"{platform.url}/v1/PhoneNumbers/{E164}"
    _reset_circuit(publisher)
    for _ in range(2):  # both workers: first-request imports, the publisher's connections
        _burst(url, customers[:WARMUP_CLIENTS])
    baseline = []
    for number in range(BASELINE):
        outcome = _burst(url, customers[number : number + 1])[0]
        if not outcome["ok"]:
            raise harness.BenchError(f"a single lookup failed: {outcome}")
        baseline.append(outcome["ms"])
    single = harness.p50(baseline)
    before = _workers(platform)
    rows = []
    after_first = None
    bursts = [(f"burst {n}", customers) for n in range(1, BURSTS + 1)]
    if one_account:  # the same 200 from one account: its API rate limit decides
        bursts.append(("one account", [customers[0]] * CLIENTS))
    for burst, clients in bursts:
        key = _reset_circuit(publisher)
        log_mark = _log_lines(platform.access_log)
        load = _load_average()
        broken = publisher.broken
        cpu = (_cpu_s([platform.process.pid, *_workers(platform)]), time.process_time())
        outcomes = _burst(url, clients)
        cpu = (_cpu_s([platform.process.pid, *_workers(platform)]) - cpu[0], time.process_time() - cpu[1])
        time.sleep(0.5)  # let the access log lines land
        served = _access(platform.access_log, log_mark)
        after = _workers(platform)
        after_first = after_first or after
        row = _row(platform, burst, outcomes, served, single, before, after, after_first)
        wall = max(o["done"] for o in outcomes) - min(o["sent"] for o in outcomes)
        rows.append(
            {
                **row,
                **_timeline(outcomes, publisher.seen),
                "publisher answers cut off": publisher.broken - broken,
                "circuit after": _circuit_state(key),
                "burst wall (s)": wall,
                "gunicorn CPU (s): per lookup ms": f"{cpu[0]:.2f}: {cpu[0] * 1000 / CLIENTS:.1f}",
                "bench process CPU (s)": cpu[1],
                "load avg 1 min": load,
                "verdict": row["verdict"],
            }
        )
    return rows


def _burst(url, accounts):
    """A thread per account (its own session), released together: one lookup each."""
    clients = len(accounts)
    release = threading.Barrier(clients)
    outcomes = [None] * clients

    def client(index):
        session = requests.Session()
        session.trust_env = False
        session.auth = (accounts[index].sid, accounts[index].auth_token)
        try:
            release.wait(timeout=JOIN_TIMEOUT_S)
            sent = time.time()  # wall clock: compared with the publisher's
            try:
                reply = session.get(url, params={"AddOns": UNIQUE_NAME}, timeout=CLIENT_TIMEOUT_S)
                done = time.time()
                outcomes[index] = _outcome(reply, sent, done)
            except requests.RequestException as error:
                done = time.time()
                outcomes[index] = {
                    "ok": False,
                    "http": None,
                    "code": None,
                    "message": type(error).__name__,
                    "sent": sent,
                    "done": done,
                    "ms": (done - sent) * 1000,
                    "sid": None,
                }
        finally:
            session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT_S + CLIENT_TIMEOUT_S
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads) or None in outcomes:
        raise harness.BenchError(f"{sum(o is None for o in outcomes)} of {clients} clients did not finish")
    return outcomes


def _outcome(reply, sent, done):
    outcome = {
        "http": reply.status_code,
        "sent": sent,
        "done": done,
        "ms": (done - sent) * 1000,
        "ok": False,
        "code": None,
        "message": None,
        "sid": None,
    }
    if reply.status_code != 200:
        outcome["message"] = reply.text[:200]
        return outcome
    result = reply.json()["add_ons"]["results"][UNIQUE_NAME]
    outcome.update(code=result["code"], message=result["message"], sid=result["request_sid"])
    outcome["ok"] = result["status"] == "successful" and result["result"] == {"ok": True}
    return outcome


def _row(platform, burst, outcomes, served, single, before, after, after_first):
    ok = [o for o in outcomes if o["ok"]]
    answered = [o for o in outcomes if o["http"] == 200]
    failures = Counter(f"{o['code'] or o['http']} {o['message']}" for o in outcomes if not o["ok"])
    latencies = [o["ms"] for o in outcomes]
    spread = (max(o["sent"] for o in outcomes) - min(o["sent"] for o in outcomes)) * 1000
    p50, worst = statistics.median(latencies), max(latencies)
    rss_before, rss_after, rss_first = (
        sum(w["rss_kb"] for w in ws.values()) / 1024 for ws in (before, after, after_first)
    )
    growth = rss_after / rss_first - 1
    checks = [
        (len(ok) == CLIENTS, f"{len(ok)}/{CLIENTS} successful"),
        (worst < STARVED_MS, f"max {worst:.0f} ms {'<' if worst < STARVED_MS else '≥'} {STARVED_MS:.0f} ms"),
    ]
    if burst == "one account":
        return _one_account_row(platform, outcomes, failures)
    if burst != "burst 1":
        checks.append((growth <= RSS_GROWTH_LIMIT, f"RSS {growth:+.1%} vs burst 1 (limit {RSS_GROWTH_LIMIT:.0%})"))
    verdict = ("met: " if all(ok_ for ok_, _ in checks) else "MISSED: ") + "; ".join(
        text if ok_ else f"{text} ✗" for ok_, text in checks
    )
    split = Counter(line["pid"] for line in served if line["path"].startswith("/v1/PhoneNumbers"))
    return {
        "name": f"{platform.description()}: {burst}, {CLIENTS} × 1 add-on ({DELAY_S * 1000:.0f} ms publisher)",
        "answered 200": len(answered),
        "add-on successful": len(ok),
        "failures": "; ".join(f"{n}× {what}" for what, n in failures.most_common()) or "none",
        "p50 (ms)": p50,
        "max (ms)": worst,
        "single lookup p50 (ms)": single,
        "max / single": worst / single,
        "sends spread (ms)": spread,
        "gunicorn max request (ms)": max((line["seconds"] * 1000 for line in served), default=0.0),
        "requests per worker": " / ".join(str(n) for _, n in sorted(split.items())),
        "workers RSS before → after (MiB)": f"{rss_before:.0f} → {rss_after:.0f}",
        "threads per worker after": " / ".join(str(w["threads"]) for _, w in sorted(after.items())),
        "verdict": verdict,
    }


def _timeline(outcomes, seen):
    """Where each lookup's time went, from the publisher's clock (same machine): before the
    publisher got the call (auth, reads, build, sign, pool queue, connect) and after it answered
    (reading, verdict, the invocation's write, rendering), p50 / max."""
    before, after, missing, edges = [], [], 0, []
    for outcome in outcomes:
        times = seen.get(outcome["sid"])
        if times is None:
            missing += 1
            continue
        before.append((times[0] - outcome["sent"]) * 1000)
        after.append((outcome["done"] - times[1]) * 1000)
        edges += [(times[0], 1), (times[1], -1)]
    in_flight = peak = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):  # an end before a start at a tie
        in_flight += step
        peak = max(peak, in_flight)

    def spread(values):
        return f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "n/a"

    return {
        "send → publisher got it, p50 / max (ms)": spread(before),
        "publisher answered → client got it, p50 / max (ms)": spread(after),
        "never reached the publisher": missing,
        "peak calls at the publisher at once": peak,
    }


def _cpu_s(pids):
    """utime + stime of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _load_average():
    return float(Path("/proc/loadavg").read_text().split()[0])


def _one_account_row(platform, outcomes, failures):
    from django.conf import settings

    refused = sum(o["http"] == 429 for o in outcomes)
    return {
        "name": f"{platform.description()}: one account sends all {CLIENTS} at once (API_RATE_LIMIT {settings.API_RATE_LIMIT})",
        "answered 200": sum(o["http"] == 200 for o in outcomes),
        "add-on successful": sum(o["ok"] for o in outcomes),
        "failures": "; ".join(f"{n}× {what[:60]}" for what, n in failures.most_common()) or "none",
        "verdict": f"no target; reported: the account's rate limit refused {refused} of {CLIENTS} with 429",
    }


# --- gunicorn's workers and access log -----------------------------------------------------


def _workers(platform):
    """{pid: {"rss_kb", "threads"}} of the master's children, from /proc/<pid>/status."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(status.get("PPid", "0").strip()) == platform.process.pid:
            found[int(entry.name)] = {
                "rss_kb": int(status["VmRSS"].split()[0]),
                "threads": int(status["Threads"].strip()),
            }
    if len(found) != platform.workers:
        raise harness.BenchError(f"expected {platform.workers} gunicorn workers, found {len(found)}")
    return found


def _log_lines(path):
    try:
        return len(path.read_text().splitlines())
    except OSError:
        return 0


def _access(path, mark):
    lines = []
    for line in path.read_text().splitlines()[mark:]:
        parts = line.split()
        if len(parts) >= 4:
            lines.append({"pid": parts[0], "status": parts[1], "seconds": float(parts[2]), "path": parts[3]})
    return lines


if __name__ == "__main__":
    try:
        for row in run():
            print(row)
    finally:
        harness.close()
