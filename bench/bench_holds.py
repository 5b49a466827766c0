"""Holds vs the old charge path: lookups per second of a priced add-on (per_use, 0.0001 USD)
through this code, where each lookup holds its price with a conditional UPDATE (+ the hold's
INSERT, settled with the invocation), against the code before holds (the parent of the commit
that introduced `billing.models.Hold`, checked out with `git worktree` in a temp dir: it reads
the balance, calls, then debits), both under gunicorn with the harness's workers and threads,
both up at once on the same database (migrated by this code; the old code ignores the hold
table): SQLite (the project's settings) and PostgreSQL, each in its own child process on a
fresh database, answering from the same loopback publisher (`{"ok": true}` at once). Load: a
bounded client in this process, CONCURRENCY threads, each one customer account of its own
(within its API rate limit) with credit and the add-on installed, each a keep-alive
`http.client` connection, looping for a fixed window: a warm-up window per server, then
ROUNDS windows alternating new, old, new... (the order swapped every round). Every answer is
checked: 200, the add-on `successful` (an add-on failure under the machine's load, e.g. the
publisher thread starved past its deadline, is counted and shown, not billed, not counted as
an answer; more than 1 % aborts). req/s = successful answers / window wall time; each figure is
the median over the rounds; ratio = holds / old. After the run, every lookup is checked in the
books: one billing event and one ledger debit per answer counted, and `check_ledger`'s rules
hold (balances equal ledger less open holds, every charge its entry and cause).
"""

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path

import harness

CONCURRENCY = 8
WARMUP_S = 3.0
WINDOW_S = 5.0
ROUNDS = 8  # the machine is shared: more rounds, so the medians hold still
REQUEST_TIMEOUT_S = 10
TARGET_RATIO = 0.9
NAME = "bench_priced"
PATH = f"/v1/PhoneNumbers/+14155552671?AddOns={NAME}"


class Server(harness.Platform):
    """gunicorn with the harness's workers and threads, serving the code checked out at `tree`."""

    def __init__(self, var_dir, tree, label):
        super().__init__(var_dir)
        self.cwd = tree
        self.log_path = var_dir / f"gunicorn-{label}.log"


def _base_commit():
    """The commit before holds: the parent of the one that introduced the Hold model."""
    introduced = subprocess.run(
        ["git", "log", "--format=%H", "-S", "class Hold(models.Model)", "--", "billing/models.py"],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not introduced:
        raise harness.BenchError("no commit introduces billing.models.Hold in this repository's history")
    parent = subprocess.run(
        ["git", "rev-parse", "--short", introduced[-1] + "^"],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return parent.stdout.strip()


ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
PG_BENCH_DB = "bench_holds"
CHILD_TIMEOUT_S = 600


def run(engines=tuple(ENGINES)):
    rows = []
    work = Path(tempfile.mkdtemp(prefix="marketplace-bench-holds-"))
    try:
        for engine in engines:
            skip = harness.postgres_unavailable() if engine == "postgres" else None
            outcome = (
                {"skipped": skip}
                if skip
                else harness.run_engine_child(__file__, engine, work / engine, timeout=CHILD_TIMEOUT_S)
            )
            if "skipped" in outcome or "error" in outcome:
                reason = f"not run: {outcome['skipped']}" if "skipped" in outcome else f"FAILED: {outcome['error']}"
                rows.append({"name": f"{ENGINES[engine]}: priced lookups, holds vs old", "verdict": reason})
                continue
            rows += _rows(ENGINES[engine], outcome["windows"], outcome["base"], outcome["billed"])
    finally:
        harness.drop_postgres_database(PG_BENCH_DB)
        shutil.rmtree(work, ignore_errors=True)
    return [as_row(columns) for columns in rows]


def as_row(columns):
    return harness.row_from_columns(
        columns, measured="holds / old", unit="× the old path's req/s", target=f"≥ {TARGET_RATIO}"
    )


def child(engine, work):
    """One engine in this process: a fresh database, both servers, the windows; JSON out."""
    import os
    import secrets

    work.mkdir(parents=True, exist_ok=True)
    if engine == "postgres":
        harness.create_postgres_database(PG_BENCH_DB)
        url = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "MARKETPLACE_VAR_DIR": str(work),
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    try:
        print(json.dumps(measure(work)), flush=True)
    finally:
        from django.db import connections

        connections.close_all()


def measure(var_dir):
    from accounts.services import create_account
    from billing.services import add_credit

    publisher = create_account(friendly_name="holds publisher", is_publisher=True)
    customers = []
    for n in range(CONCURRENCY):
        customer = create_account(friendly_name=f"holds customer {n}")
        add_credit(account=customer, amount="1000", reason="benchmark credit")
        customers.append(customer)
    answering = harness.slow_publisher(0)
    base = _base_commit()
    old_tree = Path(tempfile.mkdtemp(prefix="marketplace-bench-old-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(old_tree), base], cwd=harness.ROOT, check=True, capture_output=True
    )
    new = Server(var_dir, harness.ROOT, "holds")
    old = Server(var_dir, old_tree, "old")
    try:
        with harness.serving(answering):
            listing = _priced_listing(publisher, answering.url)
            for customer in customers:
                _install(customer, listing)
            new.start()
            old.start()
            servers = {"holds": new, "old charge path": old}
            headers = [_basic(customer) for customer in customers]
            warmups = [_window(server, headers, WARMUP_S) for server in servers.values()]
            windows = {label: [] for label in servers}
            order = list(servers)
            for _ in range(ROUNDS):
                for label in order:
                    windows[label].append(_window(servers[label], headers, WINDOW_S))
                order.reverse()
    finally:
        new.stop()
        old.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=harness.ROOT, capture_output=True)
        shutil.rmtree(old_tree.parent, ignore_errors=True)
    answered = sum(w["requests"] for runs in windows.values() for w in runs) + sum(w["requests"] for w in warmups)
    return {"windows": windows, "base": base, "billed": _books(customers, answered)}


def _priced_listing(publisher, url):
    from addons.services import import_listing

    manifest = harness.plain_manifest(NAME, url)
    return import_listing(manifest=manifest, publisher=publisher, state="active").listing


def _install(customer, listing):
    from addons.services import install_add_on

    install_add_on(
        account=customer,
        available_add_on_sid=listing.sid,
        accept_terms_of_service=True,
        configuration={},
        unique_name=NAME,
    )


def _basic(account):
    return {"Authorization": "Basic " + b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()}


def _window(server, headers, seconds):
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
                    connection.request("GET", PATH, headers=headers[index])
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as error:
                    failures.append(type(error).__name__)
                    connection.close()
                    continue
                if response.status != 200:
                    failures.append(f"HTTP {response.status} {body[:200]!r}")
                    continue
                add_on = json.loads(body)["add_ons"]["results"][NAME]
                if add_on["status"] != "successful":  # not billed; counted, shown, not timed
                    failures.append(f"{add_on['code']} {add_on['message']}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
            outcomes[index] = (latencies, failures)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    stop["at"] = time.monotonic() + seconds
    started = time.perf_counter()
    start_line.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 5)
    wall = time.perf_counter() - started
    if any(thread.is_alive() for thread in threads) or None in outcomes:
        raise harness.BenchError("a load client did not finish in time")
    latencies = [ms for per_thread, _ in outcomes for ms in per_thread]
    failures = [f for _, per_thread in outcomes for f in per_thread]
    if [f for f in failures if f.startswith("HTTP")] or len(failures) > len(latencies) / 100:
        raise harness.BenchError(f"{len(failures)} failed lookups, e.g. {failures[:3]}")
    return {
        "failed": len(failures),
        "failures": sorted(set(failures))[:2],
        "rps": len(latencies) / wall,
        "requests": len(latencies),
        "p50": harness.p50(latencies),
        "p99": harness.p99(latencies),
        "load": float(Path("/proc/loadavg").read_text().split()[0]),
    }


def _books(customers, answered):
    """Every answer billed once, whichever code served it; the books balance."""
    from billing import reconciliation
    from billing.models import BillingEvent, LedgerEntry

    events = BillingEvent.objects.filter(account__in=customers).count()
    debits = LedgerEntry.objects.filter(account__in=customers, kind="debit").count()
    problems, _ = reconciliation.check()
    if events != answered or debits != answered or problems:
        raise harness.BenchError(
            f"{answered} lookups answered, {events} billing events, {debits} debits; check_ledger: {problems[:3]}"
        )
    return events


def _rows(engine, windows, base, billed):
    medians = {
        label: {key: statistics.median(w[key] for w in runs) for key in ("rps", "p50", "p99", "load")}
        for label, runs in windows.items()
    }
    ratio = medians["holds"]["rps"] / medians["old charge path"]["rps"]
    met = ratio >= TARGET_RATIO
    rows = []
    for label in windows:
        m = medians[label]
        rows.append(
            {
                "name": f"{engine}, {label}: priced lookup, {CONCURRENCY} clients, median of {ROUNDS} × {WINDOW_S:.0f} s",
                "req/s": m["rps"],
                "req/s per round": " / ".join(f"{w['rps']:.0f}" for w in windows[label]),
                "p50 (ms)": m["p50"],
                "p99 (ms)": m["p99"],
                "load avg 1 min": m["load"],
                "add-on failures (not billed)": _failures(windows[label]),
                "holds / old": ratio if label == "holds" else "",
                "verdict": (
                    f"{'met' if met else 'MISSED'}: {ratio:.2f} × the old path's req/s vs target ≥ {TARGET_RATIO};"
                    f" {billed} lookups billed once each, check_ledger clean"
                    if label == "holds"
                    else f"baseline: the code at {base} (before holds)"
                ),
            }
        )
    return rows


def _failures(runs):
    count = sum(w["failed"] for w in runs)
    kinds = sorted({f for w in runs for f in w["failures"]})
    return f"{count}: {'; '.join(kinds)[:200]}" if count else "0"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Priced lookups per second, holds vs the old charge path.")
    parser.add_argument("--engine", choices=sorted(ENGINES), help="run one engine here; without it, both in children")
    parser.add_argument("--json", action="store_true", help="(the child always prints one JSON line)")
    parser.add_argument("--work", help="directory for the SQLite file and settings' var dir")
    args = parser.parse_args()
    if args.engine:
        child(args.engine, Path(args.work or tempfile.mkdtemp(prefix="marketplace-bench-holds-")))
    else:
        for row in run():
            print(row)
