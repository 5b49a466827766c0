"""Deep pages: 100,000 listings and 1,000,000 installations, deep page vs first page latency,
on SQLite (the project's settings: WAL, synchronous=NORMAL, file in a temp dir; no ANALYZE, as
the application runs none) and PostgreSQL (VACUUM ANALYZE after the load, as autovacuum
would), each on a fresh migrated database in its own child process with its own gunicorn
(the harness's workers and threads). Data, bulk-inserted (executemany on the raw sqlite3
connection; COPY on PostgreSQL) with fresh `new_sid` SIDs: 100,000 active listings, each with
its version; 1,000,000 installations, one in five (200,000) held by one customer and the rest
spread over 1,000 other accounts, interleaved in id order. Through gunicorn, HTTP Basic as that
customer, `GET /v1/InstalledAddOns?PageSize=50` and `GET /v1/AvailableAddOns?PageSize=50`:
the first page, alternating (20 ms apart, so the account stays under its API rate limit) with
the page starting 100 rows before the end (page 3,998 of 4,000;
page 1,998 of 2,000), reached by a PageToken minted with `make_token("n", <id of the row
before it>)` under the same SECRET_KEY, byte for byte what next_page_url would carry after
following it 3,998 times except the signing timestamp (tokens carry no max_age, so it is not
checked). The run checks that equivalence: the minted token for page 2 answers the rows that
following next_page_url twice does, and the deep page answers the rows at its position. The
contrast, in the same child without HTTP: the ORM query as `page_of` runs it (keyset: first
and deep) against `queryset.order_by("id")[offset:offset + 50]` at the same depth; EXPLAIN
(on PostgreSQL ANALYZE, BUFFERS) of the keyset (deep and first) and OFFSET queries; load avg =
the machine's 1-minute load average after the HTTP calls (other work on the machine included).
"""

import argparse
import itertools
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import harness

LISTINGS = 100_000
INSTALLATIONS = 1_000_000
HEAVY_EVERY = 5  # one installation in five is the heavy customer's: 200,000
OTHER_ACCOUNTS = 1_000
PAGE_SIZE = 50
DEPTH_FROM_END = 100  # the deep page starts this many rows before the end: a full page, and a next one
BATCH = 50_000
WARMUP = 10
CALLS = 100  # HTTP: first and deep alternating
PACE_S = 0.02  # between HTTP calls: one account stays well under its API rate limit (100/s)
QUERY_REPEATS = 15  # ORM: keyset first, keyset deep and OFFSET deep alternating
PLAN_LINES = 12
TARGET_RATIO = 1.5
CHILD_TIMEOUT_S = 1800
STOP_TIMEOUT_S = 15

PG_BENCH_DB = "bench_paging_deep"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
ENDPOINTS = {"installed": "/v1/InstalledAddOns", "available": "/v1/AvailableAddOns"}


# --- the parent: one child process per engine -----------------------------------------------


def run(engines=tuple(ENGINES)):
    outcomes = {}
    work = Path(tempfile.mkdtemp(prefix="marketplace-bench-deep-pages-"))
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
    return harness.row_from_columns(
        columns, measured="deep / first", unit="× the first page", target=f"< {TARGET_RATIO}"
    )


def _rows(engines, outcomes):
    rows = []
    for engine in engines:
        label = ENGINES[engine]
        outcome = outcomes[engine]
        if "skipped" in outcome or "error" in outcome:
            rows.append({"name": f"{label}", "verdict": f"not run: {outcome.get('skipped') or outcome['error']}"})
            continue
        load = outcome["load"]
        rows.append(
            {
                "name": f"{label}: load {LISTINGS:,} listings + {INSTALLATIONS:,} installations",
                "load (s)": load["seconds"],
                "verdict": (
                    f"no target; reported ({load['how']}; {load['after']}; database {load['size_mib']:.0f} MiB; "
                    f"child process {outcome['child_s']:.0f} s in all)"
                ),
            }
        )
        for key, title in (
            ("installed", f"InstalledAddOns, one account's {INSTALLATIONS // HEAVY_EVERY:,} of {INSTALLATIONS:,}"),
            ("available", f"AvailableAddOns, {LISTINGS:,} listings"),
        ):
            figures = outcome[key]
            http = figures["http"]
            depth = f"page {figures['deep_page']:,} of {figures['pages']:,}"
            for stat in ("p50", "p99"):
                ratio = http[f"deep_{stat}"] / http[f"first_{stat}"]
                if stat == "p50":
                    met = ratio < TARGET_RATIO
                    verdict = f"{'met' if met else 'MISSED'}: deep / first {ratio:.2f} vs target < {TARGET_RATIO}"
                    if ratio < 1 / TARGET_RATIO:
                        verdict += (
                            f"; inverted: the first page is the slow one ({http['first_p50']:.0f} ms), "
                            "its query reads every row after the cursor (EXPLAIN)"
                        )
                else:
                    verdict = "no target; reported"
                rows.append(
                    {
                        "name": f"{label}: {title}, HTTP {stat} of {CALLS} ({depth})",
                        "first page (ms)": http[f"first_{stat}"],
                        "deep page (ms)": http[f"deep_{stat}"],
                        "deep / first": ratio,
                        "load avg 1 min": http["load"],
                        "verdict": verdict,
                    }
                )
            query = figures["query"]
            rows.append(
                {
                    "name": f"{label}: {title}, ORM query only, median of {QUERY_REPEATS} (offset {figures['offset']:,})",
                    "first page (ms)": query["keyset_first"],
                    "deep page (ms)": query["keyset_deep"],
                    "deep / first": query["keyset_deep"] / query["keyset_first"],
                    "OFFSET deep (ms)": query["offset_deep"],
                    "OFFSET / keyset deep": query["offset_deep"] / query["keyset_deep"],
                    "verdict": "no target; reported (first/deep = keyset as page_of runs it; OFFSET = [offset:offset+50])",
                }
            )
            for kind, what in (("keyset", "keyset deep"), ("keyset first", "keyset first"), ("offset", "OFFSET deep")):
                rows.append(
                    {
                        "name": f"{label}: {title}, EXPLAIN {what}",
                        "plan": " ⏎ ".join(figures["plans"][kind]),
                        "verdict": "reported",
                    }
                )
    return rows


# --- the child: one engine --------------------------------------------------------------------


def child(engine, work, as_json):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix=f"marketplace-bench-deep-pages-{engine}-"))
    work.mkdir(parents=True, exist_ok=True)
    server = None
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
                # gunicorn inherits it: the tokens minted here are the ones the server accepts.
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
        world = _load(engine, work)
        _say(f"{engine}: loaded in {world['load']['seconds']:.1f} s")
        server = harness.Platform(work)
        # Absolute URLs (next_page_url) name this server; gunicorn reads it from its environment.
        os.environ["MARKETPLACE_BASE_URL"] = server.url
        server.start()
        outcome = {"load": world["load"]}
        for key in ENDPOINTS:
            outcome[key] = _measure(key, world, server)
            _say(f"{engine}: {key} measured")
        if as_json:
            print(json.dumps(outcome), flush=True)
        else:
            print(json.dumps(outcome, indent=1))
            for row in _rows([engine], {engine: {**outcome, "child_s": 0}}):
                print(row)
    finally:
        if server is not None:
            server.stop()
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


# --- loading --------------------------------------------------------------------------------


CONFIGURATION_SCHEMA = {
    "type": "object",
    "properties": {
        "min_word_length": {"type": "integer", "minimum": 2, "maximum": 10, "default": 3},
        "letter_case": {"type": "string", "enum": ["upper", "lower"], "default": "upper"},
    },
}


def _load(engine, work):
    """Accounts through the ORM; listings, versions and installations in bulk on the raw connection."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from accounts.models import Account
    from accounts.services import create_account
    from addons.models import InstalledAddOn, Listing, ListingVersion
    from marketplace.sids import new_sid

    started = time.perf_counter()
    publisher = create_account(friendly_name="deep pages publisher", is_publisher=True)
    heavy = create_account(friendly_name="deep pages heavy customer")
    others = Account.objects.bulk_create(
        [Account(friendly_name=f"deep pages customer {n}") for n in range(OTHER_ACCOUNTS)]
    )
    other_ids = [account.id for account in others]
    sqlite = engine == "sqlite"
    now = datetime(2026, 11, 1, tzinfo=UTC)
    stamp = str(now.replace(tzinfo=None)) if sqlite else now
    manifest = harness.plain_manifest("deep_pages", "http://127.0.0.1:9/never")
    manifest["configuration_schema"] = CONFIGURATION_SCHEMA
    endpoint, pricing = json.dumps(manifest["endpoint"]), json.dumps({**manifest["pricing"], "billable_items": {}})
    schema, manifest_json = json.dumps(CONFIGURATION_SCHEMA), json.dumps(manifest)

    def listings():
        for n in range(1, LISTINGS + 1):
            # Listing and version n share the id n; the foreign keys are deferred to the commit.
            yield (
                n,
                new_sid("XB"),
                f"deep_{n:06d}",
                f"Deep listing {n:06d}",
                "A listing of the deep pages benchmark.",
                "phone_number",
                "per_use",
                "active",
                stamp,
                stamp,
                publisher.id,
                n,
                "{}",
            )

    def versions():
        for n in range(1, LISTINGS + 1):
            yield (n, new_sid("XC"), 1, schema, None, None, endpoint, pricing, "[]", manifest_json, stamp, n)

    def installations():
        for i in range(INSTALLATIONS):
            account = heavy.id if i % HEAVY_EVERY == 0 else other_ids[(i // HEAVY_EVERY) % OTHER_ACCOUNTS]
            listing = i % LISTINGS + 1
            yield (
                i + 1,
                new_sid("XE"),
                new_sid("XD"),
                f"inst_{i:07d}",
                '{"min_word_length": 3}',
                stamp,
                stamp,
                stamp,
                account,
                listing,
                listing,
            )

    tables = [
        (
            Listing,
            (
                "id",
                "sid",
                "unique_name",
                "friendly_name",
                "description",
                "type",
                "pricing_type",
                "state",
                "date_created",
                "date_updated",
                "publisher_id",
                "latest_version_id",
                "content",
            ),
            listings(),
        ),
        (
            ListingVersion,
            (
                "id",
                "sid",
                "number",
                "configuration_schema",
                "request_validation_schema",
                "response_validation_schema",
                "endpoint",
                "pricing",
                "runtime_fields",
                "manifest",
                "date_created",
                "listing_id",
            ),
            versions(),
        ),
        (
            InstalledAddOn,
            (
                "id",
                "sid",
                "install_sid",
                "unique_name",
                "configuration",
                "terms_accepted_at",
                "date_created",
                "date_updated",
                "account_id",
                "listing_id",
                "version_id",
            ),
            installations(),
        ),
    ]
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")  # this loading connection only: 1 GB
    with transaction.atomic():
        for model, columns, rows in tables:
            table = connection.ops.quote_name(model._meta.db_table)
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            while batch := list(itertools.islice(rows, BATCH)):
                if sqlite:
                    placeholders = ", ".join("?" * len(columns))
                    connection.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch)
                else:
                    with (
                        connection.cursor() as cursor,
                        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
                    ):
                        for row in batch:
                            copy.write_row(row)
    insert_s = time.perf_counter() - started
    if sqlite:
        after = "no ANALYZE (the application runs none)"
    else:
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Listing, ListingVersion, InstalledAddOn]):
                cursor.execute(sql)
            analyze_started = time.perf_counter()
            for model in (Account, Listing, ListingVersion, InstalledAddOn):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        after = f"VACUUM ANALYZE {time.perf_counter() - analyze_started:.1f} s"
    counts = (
        Listing.objects.count(),
        InstalledAddOn.objects.count(),
        InstalledAddOn.objects.filter(account=heavy).count(),
    )
    if counts != (LISTINGS, INSTALLATIONS, INSTALLATIONS // HEAVY_EVERY):
        raise harness.BenchError(f"loaded {counts} (listings, installations, the customer's)")
    how = "executemany on the raw sqlite3 connection" if sqlite else "COPY"
    return {
        "heavy": heavy,
        "load": {
            "seconds": insert_s,
            "how": f"{how}, {insert_s:.0f} s",
            "after": after,
            "size_mib": _database_size(engine, work) / 1024 / 1024,
        },
    }


def _database_size(engine, work):
    from django.db import connection

    if engine == "sqlite":
        return sum(path.stat().st_size for path in work.glob("bench.sqlite3*"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


# --- measuring ------------------------------------------------------------------------------


def _queryset(key, account):
    from addons import selectors

    return selectors.installations(account) if key == "installed" else selectors.available_listings(account)


def _measure(key, world, server):
    from marketplace.api.pagination import make_token

    account = world["heavy"]
    queryset = _queryset(key, account)
    ids = list(queryset.order_by("id").values_list("id", flat=True))
    offset = len(ids) - DEPTH_FROM_END
    deep_token = make_token("n", ids[offset - 1])  # the page starting right after this row
    url = server.url + ENDPOINTS[key]
    session = server.session(account)
    collection = "installed_add_ons" if key == "installed" else "available_add_ons"

    def get(params):
        reply = session.get(url, params=params, timeout=30)
        if reply.status_code != 200:
            raise harness.BenchError(f"{ENDPOINTS[key]} {params}: {reply.status_code} {reply.text[:300]}")
        return reply

    def sids(reply):
        return [row["sid"] for row in reply.json()[collection]]

    # The minted token is the one next_page_url carries: page 2 reached both ways must agree.
    followed = get({"PageSize": PAGE_SIZE})
    for _ in range(2):
        followed = session.get(followed.json()["meta"]["next_page_url"], timeout=30)
    minted = get({"PageSize": PAGE_SIZE, "Page": 2, "PageToken": make_token("n", ids[2 * PAGE_SIZE - 1])})
    if sids(followed) != sids(minted) or len(sids(minted)) != PAGE_SIZE:
        raise harness.BenchError(f"{key}: a minted token does not answer the page next_page_url leads to")
    first_params = {"PageSize": PAGE_SIZE}
    deep_params = {"PageSize": PAGE_SIZE, "Page": offset // PAGE_SIZE, "PageToken": deep_token}
    expected = list(
        queryset.model.objects.filter(id__in=ids[offset : offset + PAGE_SIZE])
        .order_by("id")
        .values_list("sid", flat=True)
    )
    deep_reply = get(deep_params)
    if sids(deep_reply) != expected or not deep_reply.json()["meta"]["next_page_url"]:
        raise harness.BenchError(f"{key}: the deep page does not answer the rows at offset {offset}")

    first_ms, deep_ms = [], []
    for index in range(WARMUP + CALLS):
        time.sleep(PACE_S)
        first_time, _ = harness.timed(lambda: get(first_params))
        time.sleep(PACE_S)
        deep_time, _ = harness.timed(lambda: get(deep_params))
        if index >= WARMUP:
            first_ms.append(first_time)
            deep_ms.append(deep_time)

    keyset_first = lambda: list(queryset.order_by("id")[: PAGE_SIZE + 1])  # noqa: E731 (as page_of runs them)
    keyset_deep = lambda: list(queryset.order_by("id").filter(id__gt=ids[offset - 1])[: PAGE_SIZE + 1])  # noqa: E731
    offset_deep = lambda: list(queryset.order_by("id")[offset : offset + PAGE_SIZE])  # noqa: E731
    if [r.sid for r in keyset_deep()][:PAGE_SIZE] != expected or [r.sid for r in offset_deep()] != expected:
        raise harness.BenchError(f"{key}: keyset and OFFSET queries disagree at offset {offset}")
    times = {"keyset_first": [], "keyset_deep": [], "offset_deep": []}
    for _ in range(QUERY_REPEATS):
        for name, call in (("keyset_first", keyset_first), ("keyset_deep", keyset_deep), ("offset_deep", offset_deep)):
            times[name].append(harness.timed(call)[0])
    return {
        "rows": len(ids),
        "offset": offset,
        "pages": -(-len(ids) // PAGE_SIZE),
        "deep_page": offset // PAGE_SIZE,
        "http": {
            "first_p50": harness.p50(first_ms),
            "deep_p50": harness.p50(deep_ms),
            "first_p99": harness.p99(first_ms),
            "deep_p99": harness.p99(deep_ms),
            "load": float(Path("/proc/loadavg").read_text().split()[0]),
        },
        "query": {name: statistics.median(values) for name, values in times.items()},
        "plans": {
            "keyset first": _plan(queryset.order_by("id")[: PAGE_SIZE + 1]),
            "keyset": _plan(queryset.order_by("id").filter(id__gt=ids[offset - 1])[: PAGE_SIZE + 1]),
            "offset": _plan(queryset.order_by("id")[offset : offset + PAGE_SIZE]),
        },
    }


def _plan(queryset):
    from django.db import connection

    if connection.vendor == "postgresql":
        text = queryset.explain(analyze=True, buffers=True)
    else:
        text = queryset.explain()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return lines[:PLAN_LINES] + ([f"… {len(lines) - PLAN_LINES} more lines"] if len(lines) > PLAN_LINES else [])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Deep pages over 100,000 listings and 1,000,000 installations.")
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
