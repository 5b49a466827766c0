"""Fan-out: one Lookup with five add-ons whose publishers each take 100 ms. The platform calls
them in parallel, so a lookup should take about as long as its slowest add-on. Per lookup,
total = the client's wall time, slowest = the largest `Invocation.latency_ms` the platform
recorded for that lookup's five calls; the ratio column is the percentile of the per-lookup
ratios. The direct row is one call to the same 100 ms publisher, alternating with the lookups.
"""

import harness

E164 = "+18778894546"
ADD_ONS = 5
DELAY_S = 0.100
WARMUP = 10  # also opens the worker's five pooled connections to the publisher
CALLS = 50
TARGET_RATIO = 1.1


def run():
    publisher, customer = harness.accounts("fanout")
    with harness.serving(harness.slow_publisher(DELAY_S)) as slow:
        # One server is enough: each add-on is a different listing pointing at it.
        names = []
        for number in range(1, ADD_ONS + 1):
            manifest = harness.plain_manifest(f"bench_slow_{number}", f"{slow.url}/slow{number}")
            names.append(harness.install(manifest=manifest, publisher=publisher, customer=customer).unique_name)
        platform = harness.platform()
        via_platform = platform.session(customer)
        direct = harness.session()
        lookup_url = f"{platform.url}/v1/PhoneNumbers/{E164}"

        totals, request_sids, direct_ms = [], [], []
        for index in range(WARMUP + CALLS):
            direct_time, reply = harness.timed(lambda: direct.post(slow.url + "/direct", timeout=10))
            if reply.status_code != 200:
                raise harness.BenchError(f"direct call failed: {reply.status_code} {reply.text[:300]}")
            total, reply = harness.timed(lambda: via_platform.get(lookup_url, params={"AddOns": names}, timeout=10))
            add_ons = reply.json().get("add_ons") if reply.status_code == 200 else None
            if not add_ons or add_ons["status"] != "successful":
                raise harness.BenchError(f"platform lookup failed: {reply.status_code} {reply.text[:300]}")
            if index >= WARMUP:
                direct_ms.append(direct_time)
                totals.append(total)
                request_sids.append([result["request_sid"] for result in add_ons["results"].values()])

    slowest = _slowest_recorded(request_sids)
    ratios = [total / worst for total, worst in zip(totals, slowest, strict=True)]
    rows = []
    for label, stat in (("p50", harness.p50), ("p99", harness.p99)):
        ratio = stat(ratios)
        if label == "p50":
            verdict = f"{'met' if ratio < TARGET_RATIO else 'MISSED'}: ratio {ratio:.2f} vs target < {TARGET_RATIO}"
        else:
            verdict = "no target; reported"
        rows.append(
            {
                "name": f"lookup, {ADD_ONS} add-ons × {DELAY_S * 1000:.0f} ms, {label} of {CALLS}",
                "total (ms)": stat(totals),
                "slowest add-on (ms)": stat(slowest),
                "total / slowest": ratio,
                "total − slowest (ms)": stat([total - worst for total, worst in zip(totals, slowest, strict=True)]),
                "direct 1 call (ms)": stat(direct_ms),
                "verdict": verdict,
            }
        )
    return [as_row(columns) for columns in rows]


def as_row(columns):
    return harness.row_from_columns(
        columns, measured="total / slowest", unit="× the slowest add-on", target=f"< {TARGET_RATIO}"
    )


def _slowest_recorded(request_sids):
    """Per lookup, the largest latency the platform recorded among its invocations."""
    from addons.models import Invocation

    wanted = [sid for sids in request_sids for sid in sids]
    latency = dict(Invocation.objects.filter(sid__in=wanted).values_list("sid", "latency_ms"))
    missing = [sid for sid in wanted if latency.get(sid) is None]
    if missing:
        raise harness.BenchError(f"{len(missing)} invocations have no recorded latency, e.g. {missing[0]}")
    return [max(latency[sid] for sid in sids) for sids in request_sids]


if __name__ == "__main__":
    try:
        for row in run():
            print(row)
    finally:
        harness.close()
