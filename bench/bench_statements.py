"""Statements over one million billing events, on SQLite (the project's settings: WAL,
synchronous=NORMAL, file in a temp dir) and PostgreSQL (VACUUM ANALYZE after the load, as
autovacuum would), each on a fresh migrated database in its own child process. Data:
1,000,000 BillingEvent rows inserted in date order (executemany on SQLite, COPY on
PostgreSQL; load time reported, not judged) over Jul–Sep 2026: 20 publishers × 10 listings
(per_use, per_success, per_minute, manual; fractional manual quantities), 2,000 customers with
skewed traffic, events placed exactly on the month boundaries. "close_last_month" =
`billing.services.close_last_month(today=2026-09-15)`, closing August for all 20 publishers
(statements deleted between runs), against the baseline "naive Python" = every August event
through `.iterator()` summed in a dict (no statement written); times are medians of
alternating runs; peak memory = tracemalloc peak during one more call of each, RSS growth =
`getrusage` ru_maxrss during the call (high-water mark reset first via /proc/self/clear_refs).
"usage_records" = `billing.selectors.usage_records` for one customer over the 3 months, p50,
against the same naive loop over that customer's events. The statement and usage queries, as
captured from those calls, are explained (first plan nodes shown; PostgreSQL's with EXPLAIN
ANALYZE, BUFFERS) and timed with the index against a forced table scan (SQLite NOT INDEXED;
PostgreSQL with index and bitmap scans off); where PostgreSQL's planner picks another index
than the intended composite one, the query and close_last_month are timed again with that
index dropped in a transaction rolled back after. The share of close_last_month spent in its
GROUP BY queries comes from the same call with every query timed. The machine's load average
is shown because other work on it makes the seconds noisy. Every figure is checked: the database's statement (events, gross, fee, net, every line) and
usage figures must equal both the naive sums and the sums kept while generating the data,
exactly as Decimals (the usage price, a float in the API, to the micro-dollar); else FAILED.
"""

import argparse
import gc
import itertools
import json
import os
import random
import resource
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import harness

EVENTS = 1_000_000
PUBLISHERS = 20
LISTINGS_PER_PUBLISHER = 10
CUSTOMERS = 2_000
DATA_START = datetime(2026, 7, 1, tzinfo=UTC)
DATA_END = datetime(2026, 10, 1, tzinfo=UTC)  # three months, Jul–Sep
TODAY = date(2026, 9, 15)  # close_last_month(today=TODAY) closes August: data on both sides
PERIOD = date(2026, 8, 1)
BOUNDARIES = (datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
KINDS = ("per_use", "per_success", "per_minute", "manual")
PRICES = tuple(Decimal(p) for p in ("0.0001", "0.0025", "0.005", "0.01", "0.0375"))
HEAVY, MEDIAN = 0, 1000  # customer indexes: ~2.2 % of all events, and about the median customer
SEED = 20261122
BATCH = 50_000
REPEATS = 5  # close_last_month and the naive loop, alternating
USAGE_REPEATS = 20
QUERY_REPEATS = 5
PLAN_LINES = 10
CHILD_TIMEOUT_S = 1800
STOP_TIMEOUT_S = 15
MICRO = Decimal("0.000001")
MIB = 1024 * 1024

PG_BENCH_DB = "bench_billing"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# --- the parent: one child process per engine -----------------------------------------------


def run(engines=tuple(ENGINES)):
    outcomes = {}
    work = Path(tempfile.mkdtemp(prefix="marketplace-bench-statements-"))
    try:
        for engine in engines:
            skip = harness.postgres_unavailable() if engine == "postgres" else None
            outcomes[engine] = (
                {"skipped": skip}
                if skip
                else harness.run_engine_child(
                    __file__, engine, work / engine, timeout=CHILD_TIMEOUT_S, stop_timeout=STOP_TIMEOUT_S
                )
            )
    finally:
        harness.drop_postgres_database(PG_BENCH_DB)
        shutil.rmtree(work, ignore_errors=True)
    return [as_row(columns) for columns in _rows(engines, outcomes)]


def as_row(columns):
    """No target: close_last_month per database heads the summary."""
    return harness.row_from_columns(
        columns,
        measured="database",
        headline="close_last_month" in columns["name"],
    )


def _rows(engines, outcomes):
    rows = []
    for engine in engines:
        label, outcome = ENGINES[engine], outcomes[engine]
        if "skipped" in outcome or "error" in outcome:
            verdict = f"not run: {outcome['skipped']}" if "skipped" in outcome else f"FAILED: {outcome['error']}"
            rows.append({"name": f"{label}: close_last_month over {EVENTS:,} events", "verdict": verdict})
            continue
        rows.append(_statement_row(label, outcome))
        rows += [_usage_row(label, usage) for usage in outcome["usage"]]
        rows += [_query_row(label, query) for query in outcome["queries"]]
    return rows


def _statement_row(label, outcome):
    s, load = outcome["statements"], outcome["load"]
    problems = s["problems"]
    verdict = (
        f"FAILED: {'; '.join(problems[:3])}" + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
        if problems
        else f"ok, no target: {s['statements']} statements equal the naive and the generator's sums exactly "
        "(events, gross, fee, net, every line)"
    )
    return {
        "name": f"{outcome['database']}: close_last_month, {PERIOD:%b %Y}, {PUBLISHERS} publishers "
        f"({s['events']:,} of {load['rows']:,} events)",
        "database": f"{s['db_s']:.2f} s",
        "baseline": f"{s['naive_s']:.2f} s naive Python",
        "baseline ÷ database": s["naive_s"] / s["db_s"],
        "peak memory (tracemalloc) database / baseline": f"{s['db_peak_mib']:.2f} / {s['naive_peak_mib']:.2f} MiB",
        "memory baseline ÷ database": s["naive_peak_mib"] / s["db_peak_mib"],
        "max RSS growth database / baseline": f"{s['db_rss_mib']:.1f} / {s['naive_rss_mib']:.1f} MiB",
        "detail": (
            f"runs {_seconds(s['db_runs'])} vs {_seconds(s['naive_runs'])}; the {s['group_by_queries']} GROUP BY "
            f"queries are {100 * s['group_by_s'] / s['captured_s']:.0f} % of the call ({s['group_by_s']:.2f} of "
            f"{s['captured_s']:.2f} s, {s['queries']} queries in all); "
            + (
                f"with {', '.join(s['hidden'])} hidden (DROP INDEX, rolled back) close_last_month takes "
                f"{s['hidden_s']:.2f} s ({_seconds(s['hidden_runs'])}); "
                if "hidden" in s
                else ""
            )
            + f"load {load['rows']:,} rows {load['insert_s']:.1f} s ({load['rows'] / load['insert_s'] / 1000:.0f}k rows/s, "
            f"{load['how']}), {load['after']}, database {load['size_mib']:.0f} MiB; machine load average "
            f"{load['loadavg'][0]:.1f} → {load['loadavg'][1]:.1f} over the run ({os.cpu_count()} CPUs)"
        ),
        "verdict": verdict,
    }


def _usage_row(label, usage):
    problems = usage["problems"]
    verdict = (
        f"FAILED: {'; '.join(problems[:3])}"
        if problems
        else f"ok, no target: {usage['records']} records equal the naive and the generator's sums"
    )
    if usage["notes"]:
        verdict += f"; NOTE {'; '.join(usage['notes'])}"
    return {
        "name": f"{label}: usage_records, {usage['label']} ({usage['events']:,} events over 3 months), p50 of {USAGE_REPEATS}",
        "database": f"{usage['db_ms']:.1f} ms",
        "baseline": f"{usage['naive_ms']:.1f} ms naive Python",
        "baseline ÷ database": usage["naive_ms"] / usage["db_ms"],
        "verdict": verdict,
    }


def _query_row(label, query):
    used = ", ".join(query["indexes_used"]) or "no index"
    if query["index"] in query["indexes_used"]:
        verdict = f"index {query['index']} used"
    else:
        verdict = f"MISSED: the planner uses {used}, not {query['index']}"
        if query.get("forced_ms"):
            verdict += (
                f"; with {used} hidden (DROP INDEX, rolled back) the planner uses "
                f"{', '.join(query['forced_indexes']) or 'no index'}: {query['forced_ms']:.1f} ms instead of "
                f"{query['index_ms']:.1f}, heap blocks {query['forced_heap_blocks']} instead of {query['heap_blocks']}"
            )
    return {
        "name": f"{label}: the {query['label']} query alone, with its index vs a forced table scan, p50 of {QUERY_REPEATS}",
        "database": f"{query['index_ms']:.1f} ms",
        "baseline": f"{query['scan_ms']:.1f} ms table scan",
        "baseline ÷ database": query["scan_ms"] / query["index_ms"],
        "detail": "plan: " + " ⏎ ".join(_plan_nodes(query["plan"])[:PLAN_LINES]),
        "verdict": verdict,
    }


def _plan_nodes(plan):
    """The plan's nodes, one per line: PostgreSQL's without costs, with actual ms and rows."""
    if not any("(cost=" in line for line in plan):
        return [line.strip() for line in plan]  # SQLite's EXPLAIN QUERY PLAN: already one node a line
    nodes = []
    for line in plan:
        text = line.strip()
        if "(cost=" not in text:
            first_buffers = text.startswith("Buffers") and len(nodes) == 1
            if not nodes or first_buffers or text.startswith(("Execution Time", "Heap Blocks")):
                nodes.append(text if not nodes else "  " + text)
            continue
        name, _, rest = text.removeprefix("->").strip().partition("  (cost=")
        actual = rest.partition("(actual time=")[2].rstrip(")")
        if actual:
            span, _, counts = actual.partition(" ")
            name += f" [{span.partition('..')[2]} ms, {counts.replace(' loops=1', '')}]"
        nodes.append(name)
    return nodes


def _seconds(values):
    return "/".join(f"{v:.2f}" for v in values) + " s"


# --- the child: one engine --------------------------------------------------------------------


def child(engine, work, as_json):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix=f"marketplace-bench-statements-{engine}-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if engine == "postgres":
            harness.create_postgres_database(PG_BENCH_DB)
            database_url = PG_BENCH_URL
        else:
            database_url = f"sqlite:///{work / 'bench.sqlite3'}"
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "marketplace.settings",
                "MARKETPLACE_VAR_DIR": str(work),
                "DATABASE_URL": database_url,
                "SECRET_KEY": secrets.token_urlsafe(50),
                "LOG_LEVEL": "WARNING",
            }
        )
        os.environ.pop("REDIS_URL", None)
        import django
        from django.core.management import call_command

        django.setup()
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        _say(f"{engine}: migrated in {time.monotonic() - started:.1f} s")
        outcome = measure(engine, work)
        if as_json:
            print(json.dumps(outcome), flush=True)
        else:
            print(json.dumps(outcome, indent=1))
            for row in _rows([engine], {engine: outcome}):
                print(row)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 (Django never set up)
            pass
        if engine == "postgres":
            harness.drop_postgres_database(PG_BENCH_DB)
        shutil.rmtree(work, ignore_errors=True)


def _say(message):
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(engine, work):
    from django.db import connection

    from accounts.models import Account
    from billing.models import Statement

    load_before = os.getloadavg()[0]
    world = _make_accounts_and_listings()
    expected, load = _load_events(engine, world)
    load["size_mib"] = _database_size(engine, work) / MIB
    _say(f"{engine}: loaded {load['rows']:,} events in {load['insert_s']:.1f} s; {load['after']}")

    statements = _measure_statements(world, expected)
    _say(f"{engine}: close_last_month {statements['db_s']:.2f} s, naive {statements['naive_s']:.2f} s")
    usage = [
        _measure_usage(Account.objects.get(pk=world["customers"][index]), label, expected["usage"][index])
        for index, label in ((HEAVY, "heaviest customer"), (MEDIAN, "a median customer"))
    ]
    for row in usage:
        _say(f"{engine}: usage_records {row['label']} {row['db_ms']:.1f} ms, naive {row['naive_ms']:.1f} ms")
    queries = [
        _measure_query(engine, "statement (1 publisher × 1 month)", "be_publisher_date", statements.pop("sql")),
        _measure_query(engine, "usage_records (heaviest customer × 3 months)", "be_account_date", usage[0].pop("sql")),
    ]
    usage[1].pop("sql")
    if "forced_ms" in queries[0]:
        statements.update(_close_with_hidden(queries[0]["indexes_used"], statements["expected"]))
        statements["problems"] = list(dict.fromkeys(statements["problems"] + statements.pop("hidden_problems")))
    statements.pop("expected")
    for query in queries:
        _say(f"{engine}: plan of the {query['label']} query:\n    " + "\n    ".join(query["plan"]))
        _say(f"{engine}: the same with a table scan:\n    " + "\n    ".join(query["scan_plan"]))
        if "forced_plan" in query:
            _say(
                f"{engine}: the same with {', '.join(query['indexes_used'])} hidden:\n    "
                + "\n    ".join(query["forced_plan"])
            )
    Statement.objects.all().delete()
    return {
        "engine": engine,
        "database": _engine_description(connection),
        "load": {**load, "loadavg": [load_before, os.getloadavg()[0]]},
        "statements": statements,
        "usage": usage,
        "queries": queries,
    }


def _engine_description(connection):
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


# --- data -----------------------------------------------------------------------------------------


def _make_accounts_and_listings():
    from accounts.models import Account
    from addons.models import Listing

    publishers = Account.objects.bulk_create(
        [Account(friendly_name=f"statements bench publisher {p}", is_publisher=True) for p in range(PUBLISHERS)]
    )
    customers = Account.objects.bulk_create(
        [Account(friendly_name=f"statements bench customer {c}") for c in range(CUSTOMERS)]
    )
    listings = []
    for number in range(PUBLISHERS * LISTINGS_PER_PUBLISHER):
        kind = KINDS[number % len(KINDS)]
        listings.append(
            Listing(
                publisher=publishers[number // LISTINGS_PER_PUBLISHER],
                unique_name=f"bench-listing-{number:03d}",
                friendly_name=f"Bench listing {number}",
                type="recording_analysis" if kind == "per_minute" else "phone_number",
                pricing_type=kind,
                state="active",
            )
        )
    listings = Listing.objects.bulk_create(listings)
    if any(obj.pk is None for obj in [*publishers, *customers, *listings]):
        raise harness.BenchError("bulk_create returned no primary keys")
    return {
        "publishers": [a.pk for a in publishers],
        "customers": [a.pk for a in customers],
        "listings": [(obj.pk, obj.unique_name) for obj in listings],
    }


def _events(world):
    """Every event, in date order, from a seeded generator: (number, kind, customer index,
    listing index, quantity, unit price, amount, aware UTC datetime)."""
    rng = random.Random(SEED)
    span_us = (DATA_END - DATA_START) // timedelta(microseconds=1)
    # Events exactly on and one microsecond before each boundary of the closed month.
    pinned = {}
    for boundary in BOUNDARIES:
        index = (boundary - DATA_START) // timedelta(microseconds=1) * EVENTS // span_us
        pinned[index] = boundary
        pinned[index - 1] = boundary - timedelta(microseconds=1)
    for i in range(EVENTS):
        when = pinned.get(i) or DATA_START + timedelta(microseconds=int((i + rng.random()) * span_us / EVENTS))
        listing = rng.randrange(len(world["listings"]))
        kind = KINDS[listing % len(KINDS)]
        price = PRICES[(listing // len(KINDS)) % len(PRICES)]
        if kind == "per_minute":
            quantity = Decimal(rng.randint(1, 30))
        elif kind == "manual":
            quantity = Decimal(rng.randint(1, 100_000)).scaleb(-3)  # 0.001 .. 100.000
        else:
            quantity = Decimal(1)
        amount = (quantity * price).quantize(MICRO, rounding=ROUND_HALF_UP)
        customer = int(CUSTOMERS * rng.random() ** 2)  # skewed: a few heavy customers
        yield i, kind, customer, listing, quantity, price, amount, when


def _load_events(engine, world):
    """Insert every event on the raw connection; the expected sums and the load figures."""
    from django.db import connection, transaction

    from billing.models import BillingEvent

    meta = BillingEvent._meta
    fields = (
        "key",
        "kind",
        "account",
        "publisher",
        "listing",
        "installation",
        "billable_item",
        "reference",
        "quantity",
        "unit_price",
        "amount",
        "date_created",
    )
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in fields)
    table = connection.ops.quote_name(meta.db_table)
    month_start, month_end = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    statement = defaultdict(lambda: [0, Decimal(0), Decimal(0)])  # (publisher pk, listing name, kind)
    usage = {
        HEAVY: defaultdict(lambda: [0, Decimal(0), Decimal(0)]),
        MEDIAN: defaultdict(lambda: [0, Decimal(0), Decimal(0)]),
    }
    sqlite = engine == "sqlite"
    publisher_of = [world["publishers"][n // LISTINGS_PER_PUBLISHER] for n in range(len(world["listings"]))]

    def rows():
        for i, kind, customer, listing, quantity, price, amount, when in _events(world):
            listing_pk, listing_name = world["listings"][listing]
            if month_start <= when < month_end:
                sums = statement[(publisher_of[listing], listing_name, kind)]
                sums[0] += 1
                sums[1] += quantity
                sums[2] += amount
            if customer in usage:
                sums = usage[customer][listing_name]
                sums[0] += 1
                sums[1] += quantity
                sums[2] += amount
            key = f"bench:{i:07d}"
            if sqlite:  # what Django's SQLite backend stores: str(Decimal), naive UTC str(datetime)
                yield (
                    key,
                    kind,
                    world["customers"][customer],
                    publisher_of[listing],
                    listing_pk,
                    None,
                    None,
                    "",
                    str(quantity),
                    str(price),
                    str(amount),
                    str(when.replace(tzinfo=None)),
                )
            else:
                yield (
                    key,
                    kind,
                    world["customers"][customer],
                    publisher_of[listing],
                    listing_pk,
                    None,
                    None,
                    "",
                    quantity,
                    price,
                    amount,
                    when,
                )

    started = time.perf_counter()
    generated = rows()
    inserted = 0
    while True:
        batch = list(itertools.islice(generated, BATCH))
        if not batch:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            if sqlite:
                placeholders = ", ".join("?" * len(fields))
                connection.connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", batch)
            else:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
        inserted += len(batch)
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    if sqlite:
        after = "no ANALYZE (the application runs none)"
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
        after = f"VACUUM ANALYZE {time.perf_counter() - started:.1f} s"
    if BillingEvent.objects.count() != EVENTS:
        raise harness.BenchError(f"{BillingEvent.objects.count()} events in the table after inserting {EVENTS}")
    how = "executemany on the raw sqlite3 connection" if sqlite else "COPY"
    expected = {"statement": dict(statement), "usage": {c: dict(sums) for c, sums in usage.items()}}
    return expected, {"rows": inserted, "insert_s": insert_s, "how": how, "after": after}


def _database_size(engine, work):
    from django.db import connection

    if engine == "sqlite":
        return sum(path.stat().st_size for path in work.glob("bench.sqlite3*"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


# --- statements ---------------------------------------------------------------------------------


def _naive_statements():
    """The month's figures per publisher, as statement_figures shapes them, summed in Python."""
    from addons.models import Listing
    from billing.models import BillingEvent
    from billing.services import month_bounds

    start, end = month_bounds(PERIOD)
    sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for event in BillingEvent.objects.filter(date_created__gte=start, date_created__lte=end).iterator(chunk_size=2000):
        line = sums[(event.publisher_id, event.listing_id, event.kind)]
        line[0] += 1
        line[1] += event.quantity
        line[2] += event.amount
    names = dict(Listing.objects.values_list("id", "unique_name"))
    return _figures({(publisher, names[listing], kind): line for (publisher, listing, kind), line in sums.items()})


def _figures(sums):
    """{publisher pk: figures} from {(publisher pk, listing name, kind): [events, quantity, gross]}."""
    from django.conf import settings

    fee_percent = Decimal(str(settings.MARKETPLACE_FEE_PERCENT))
    by_publisher = defaultdict(list)
    for (publisher, listing, kind), line in sorted(sums.items()):
        by_publisher[publisher].append((listing, kind, *line))
    figures = {}
    for publisher, lines in by_publisher.items():
        gross = _money(sum((line[4] for line in lines), Decimal(0)))
        fee = _money(gross * fee_percent / 100)
        figures[publisher] = {
            "events": sum(line[2] for line in lines),
            "gross": gross,
            "fee": fee,
            "net": gross - fee,
            "lines": [
                {
                    "listing": name,
                    "kind": kind,
                    "events": events,
                    "quantity": str(_money(quantity)),
                    "gross": str(_money(g)),
                }
                for name, kind, events, quantity, g in lines
            ],
        }
    return figures


def _money(value):
    return Decimal(value).quantize(MICRO, rounding=ROUND_HALF_UP)


def _statement_problems(expected):
    """Differences between the closed statements as stored and the generator's sums."""
    from billing.models import Statement

    problems = []
    stored = {s.publisher_id: s for s in Statement.objects.filter(period=PERIOD, status="closed")}
    if set(stored) != set(expected):
        problems.append(f"{len(stored)} closed statements for {len(expected)} publishers")
    for publisher, figures in expected.items():
        statement = stored.get(publisher)
        if statement is None:
            continue
        for field in ("events", "gross", "fee", "net", "lines"):
            if getattr(statement, field) != figures[field]:
                wrong = getattr(statement, field)
                if field == "lines":
                    diff = [(a, b) for a, b in zip(wrong, figures["lines"], strict=False) if a != b][:1]
                    problems.append(
                        f"publisher {publisher} lines differ ({len(wrong)} vs {len(figures['lines'])}), e.g. {diff}"
                    )
                else:
                    problems.append(f"publisher {publisher} {field} {wrong} ≠ {figures[field]}")
    return problems


def _measure_statements(world, expected_sums):
    from billing.models import BillingEvent, Statement
    from billing.services import close_last_month, month_bounds

    expected = _figures(expected_sums["statement"])
    start, end = month_bounds(PERIOD)
    events = BillingEvent.objects.filter(date_created__gte=start, date_created__lte=end).count()
    if events != sum(f["events"] for f in expected.values()):
        raise harness.BenchError(
            f"{events} events in the month, the generator put {sum(f['events'] for f in expected.values())}"
        )
    close = lambda: close_last_month(today=TODAY)  # noqa: E731
    reset = lambda: Statement.objects.all().delete()  # noqa: E731
    db_runs, naive_runs, db_rss, naive_rss, problems = [], [], [], [], []
    for _ in range(REPEATS):
        reset()
        seconds, rss, statements = _timed(close)
        db_runs.append(seconds)
        db_rss.append(rss)
        if len(statements) != PUBLISHERS:
            problems.append(f"close_last_month returned {len(statements)} statements")
        problems += _statement_problems(expected)
        seconds, rss, naive = _timed(_naive_statements)
        naive_runs.append(seconds)
        naive_rss.append(rss)
        if naive != expected:
            problems.append("the naive sums differ from the generator's")
    reset()
    db_peak = _traced_peak(close)
    problems += _statement_problems(expected)
    naive_peak = _traced_peak(_naive_statements)

    # Where the time goes: the same call with every query captured and timed (the run of
    # median length among REPEATS).
    captures = []
    for _ in range(REPEATS):
        reset()
        with _Captured() as captured:
            started = time.perf_counter()
            close()
            captures.append((time.perf_counter() - started, captured.queries))
    captured_s, queries = sorted(captures, key=lambda capture: capture[0])[len(captures) // 2]
    group_by = [q for q in queries if "GROUP BY" in q["sql"]]
    return {
        "events": events,
        "statements": len(expected),
        "db_s": statistics.median(db_runs),
        "naive_s": statistics.median(naive_runs),
        "db_runs": db_runs,
        "naive_runs": naive_runs,
        "db_peak_mib": db_peak / MIB,
        "naive_peak_mib": naive_peak / MIB,
        "db_rss_mib": max(db_rss) / 1024,
        "naive_rss_mib": max(naive_rss) / 1024,
        "captured_s": captured_s,
        "queries": len(queries),
        "group_by_queries": len(group_by),
        "group_by_s": sum(q["seconds"] for q in group_by),
        "problems": list(dict.fromkeys(problems)),
        "sql": group_by[0]["sql"] if group_by else "",
        "expected": expected,
    }


def _close_with_hidden(indexes, expected):
    """close_last_month again with the indexes the planner preferred dropped in a transaction
    that is rolled back after: what the statement figure would be with the intended index."""
    from django.db import connection, transaction

    from billing.models import Statement
    from billing.services import close_last_month

    runs, problems = [], []
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        for _ in range(REPEATS):
            Statement.objects.all().delete()
            seconds, _, _ = _timed(lambda: close_last_month(today=TODAY))
            runs.append(seconds)
            problems += _statement_problems(expected)
        transaction.set_rollback(True)
    return {"hidden": indexes, "hidden_s": statistics.median(runs), "hidden_runs": runs, "hidden_problems": problems}


class _Captured:
    """Every query of the block: its SQL with the parameters in (as the backend renders them,
    for EXPLAIN) and the seconds its execute took, timed here rather than rounded to ms."""

    def __enter__(self):
        from django.db import connection

        self.queries = []
        self._wrapping = connection.execute_wrapper(self)
        self._wrapping.__enter__()
        return self

    def __exit__(self, *exc):
        return self._wrapping.__exit__(*exc)

    def __call__(self, execute, sql, params, many, context):
        from django.db import connection

        started = time.perf_counter()
        result = execute(sql, params, many, context)
        seconds = time.perf_counter() - started
        rendered = sql if many else connection.ops.last_executed_query(context["cursor"], sql, params)
        self.queries.append({"sql": rendered, "seconds": seconds})
        return result


def _timed(call):
    """(seconds, max RSS growth in KiB, result) of one call, after a garbage collection."""
    gc.collect()
    _reset_peak_rss()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, result


def _reset_peak_rss():
    """Lower the high-water mark getrusage reports to the current RSS (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # then the growth is over the process's earlier peak: a lower bound


def _traced_peak(call):
    gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- usage records -----------------------------------------------------------------------------


WINDOW = (DATA_START.date(), (DATA_END - timedelta(days=1)).date())


def _naive_usage(account):
    from addons.models import Listing
    from billing.models import BillingEvent

    start = DATA_START
    end = DATA_END
    sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for event in BillingEvent.objects.filter(account=account, date_created__gte=start, date_created__lt=end).iterator(
        chunk_size=2000
    ):
        line = sums[event.listing_id]
        line[0] += 1
        line[1] += event.quantity
        line[2] += event.amount
    names = dict(Listing.objects.filter(id__in=list(sums)).values_list("id", "unique_name"))
    return {names[listing]: line for listing, line in sums.items()}


def _usage_problems(records, expected):
    """Count and usage exactly, price (a float in the API) to the micro-dollar; notes on format."""
    problems, notes = [], []
    wanted = {f"marketplace-{name}": sums for name, sums in expected.items()}
    total = [
        sum(s[0] for s in expected.values()),
        sum((s[1] for s in expected.values()), Decimal(0)),
        sum((s[2] for s in expected.values()), Decimal(0)),
    ]
    wanted["marketplace"] = total
    got = {r["category"]: r for r in records}
    if set(got) != set(wanted):
        problems.append(f"{len(got)} record categories for {len(wanted)} expected")
    exponent = []
    for category, (count, usage, price) in wanted.items():
        record = got.get(category)
        if record is None:
            continue
        if record["count"] != str(count):
            problems.append(f"{category} count {record['count']} ≠ {count}")
        if Decimal(record["usage"]) != usage:
            problems.append(f"{category} usage {record['usage']} ≠ {usage.normalize():f}")
        if "E" in record["usage"]:
            exponent.append(f"{record['usage']} for {usage.normalize():f}")
        if _money(Decimal(repr(record["price"]))) != price:
            problems.append(f"{category} price {record['price']} ≠ {price}")
    if exponent:
        notes.append(f"{len(exponent)} of {len(wanted)} usage strings in exponent notation, e.g. {exponent[0]}")
    return problems, notes


def _measure_usage(account, label, expected):
    from billing.selectors import usage_records

    call = lambda: usage_records(account, start_date=WINDOW[0], end_date=WINDOW[1])  # noqa: E731
    naive_call = lambda: _naive_usage(account)  # noqa: E731
    call(), naive_call()  # warm-up
    db_ms, naive_ms = [], []
    for _ in range(USAGE_REPEATS):
        seconds, _, records = _timed(call)
        db_ms.append(seconds * 1000)
        seconds, _, naive = _timed(naive_call)
        naive_ms.append(seconds * 1000)
    problems, notes = _usage_problems(records, expected)
    if naive != expected:
        problems.append("the naive sums differ from the generator's")
    with _Captured() as captured:
        call()
    group_by = [q["sql"] for q in captured.queries if "GROUP BY" in q["sql"]]
    return {
        "label": label,
        "events": sum(s[0] for s in expected.values()),
        "records": len(records),
        "db_ms": statistics.median(db_ms),
        "naive_ms": statistics.median(naive_ms),
        "problems": problems,
        "notes": notes,
        "sql": group_by[0] if group_by else "",
    }


# --- one query: plan, index against table scan ---------------------------------------------------


def _measure_query(engine, label, index, sql):
    from django.db import connection

    from billing.models import BillingEvent

    if not sql:
        raise harness.BenchError(f"no GROUP BY query captured for the {label} query")
    table = connection.ops.quote_name(BillingEvent._meta.db_table)
    if engine == "sqlite":
        scan_sql = sql.replace(f"FROM {table}", f"FROM {table} NOT INDEXED", 1)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = _sqlite_plan(cursor.fetchall())
            cursor.execute("EXPLAIN QUERY PLAN " + scan_sql)
            scan_plan = _sqlite_plan(cursor.fetchall())
        index_ms = _query_ms(sql)
        scan_ms = _query_ms(scan_sql)
    else:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        index_ms = _query_ms(sql)
        off = ("SET enable_indexscan = off", "SET enable_bitmapscan = off", "SET enable_indexonlyscan = off")
        with connection.cursor() as cursor:
            for setting in off:
                cursor.execute(setting)
            try:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                scan_plan = [row[0] for row in cursor.fetchall()]
                scan_ms = _query_ms(sql)
            finally:
                for setting in off:
                    cursor.execute(setting.replace("off", "on"))
    measured = {
        "label": label,
        "index": index,
        "sql": sql,
        "plan": plan,
        "indexes_used": [name for name in _indexes_used(plan) if name in _event_indexes()],
        "heap_blocks": _heap_blocks(plan),
        "scan_plan": scan_plan,
        "index_ms": index_ms,
        "scan_ms": scan_ms,
    }
    if engine == "postgres" and measured["indexes_used"] and index not in measured["indexes_used"]:
        measured.update(_forced(sql, measured["indexes_used"]))
    return measured


def _forced(sql, hidden):
    """The query with the indexes the planner chose dropped in a transaction rolled back after."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            for name in hidden:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        forced_ms = _query_ms(sql)
        transaction.set_rollback(True)
    return {
        "forced_plan": plan,
        "forced_ms": forced_ms,
        "forced_heap_blocks": _heap_blocks(plan),
        "forced_indexes": [name for name in _indexes_used(plan) if name in _event_indexes()],
    }


def _event_indexes():
    from django.db import connection

    from billing.models import BillingEvent

    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, BillingEvent._meta.db_table))


def _indexes_used(plan):
    """Names of the indexes a plan reads billing events through (SQLite or PostgreSQL)."""
    import re

    found = []
    for line in plan:
        match = re.search(r"USING (?:COVERING )?INDEX (\w+)|Index (?:Only )?Scan (?:using|on) (\w+)", line)
        if match:
            found.append(match.group(1) or match.group(2))
    return list(dict.fromkeys(name for name in found if name != "sqlite_autoindex"))


def _heap_blocks(plan):
    blocks = [line.strip().removeprefix("Heap Blocks: ") for line in plan if "Heap Blocks:" in line]
    return ", ".join(blocks) or "?"


def _sqlite_plan(rows):
    depth = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def _query_ms(sql):
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(QUERY_REPEATS + 1):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])  # the first warms the cache


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Statements over a million billing events (one engine per process).")
    parser.add_argument(
        "--engine", choices=sorted(ENGINES), help="run one engine here; without it, run both in children"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line on stdout")
    parser.add_argument("--work", help="directory for the SQLite file and settings' var dir (removed at the end)")
    args = parser.parse_args()
    if args.engine:
        child(args.engine, args.work, args.json)
    else:
        for row in run():
            print(row)
