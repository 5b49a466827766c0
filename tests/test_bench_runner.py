"""bench/run.py's one result shape and its files, without running a benchmark: every module
returns harness.row(...) rows, bench/RESULTS.md is exactly what the runner renders from
bench/results.json, and it opens with the summary table."""

import importlib
import json
import sys

import pytest

from tests.docs_markdown import ROOT

BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("run"), importlib.import_module("harness")
    finally:
        sys.path.remove(str(BENCH))


def test_results_md_is_rendered_from_results_json(bench):
    run, _ = bench
    results = json.loads((BENCH / "results.json").read_text())
    assert (BENCH / "RESULTS.md").read_text() == run.render(results)


def test_every_module_has_rows_of_the_one_shape(bench):
    _, harness = bench
    results = json.loads((BENCH / "results.json").read_text())
    modules = sorted(path.stem for path in BENCH.glob("bench_*.py"))
    assert sorted(results["modules"]) == modules
    for name, entry in results["modules"].items():
        harness.check_rows(entry["rows"])
        assert any(row["headline"] for row in entry["rows"]), name
        # Every module shapes its own table columns the same way (what run() returns).
        assert callable(importlib.import_module(name).as_row)


def test_results_md_opens_with_the_summary(bench):
    run, _ = bench
    lines = (BENCH / "RESULTS.md").read_text().splitlines()
    summary = lines.index("## Summary")
    assert summary < 10 and lines[summary + 2] == "| bench | figure | target | measured | verdict |"
    first_module = next(n for n, line in enumerate(lines) if line.startswith("## bench_"))
    rows = [line for line in lines[summary:first_module] if line.startswith("| [")]
    assert 0 < len(rows) <= 30  # one screen


def test_a_row_of_another_shape_fails_the_module(bench):
    _, harness = bench
    good = harness.row("x", verdict="met: 1 vs target < 2", measured=1.0, target="< 2")
    assert harness.check_rows([good]) == [good]
    for bad in ([], [{"name": "x", "verdict": "ok"}], [{**good, "detail": "text"}], "rows"):
        with pytest.raises(harness.BenchError):
            harness.check_rows(bad)


def test_row_from_columns_keeps_every_column(bench):
    _, harness = bench
    judged = harness.row_from_columns(
        {"name": "lookup p50", "added (ms)": 3.0, "direct (ms)": 2.0, "verdict": "met: added 3.0 ms vs target < 5 ms"},
        measured="added (ms)",
        unit="ms added",
        target="< 5 ms added",
    )
    assert judged["figure"] == "lookup p50" and judged["measured"] == 3.0 and judged["target"] == "< 5 ms added"
    assert judged["detail"] == {"added (ms)": 3.0, "direct (ms)": 2.0} and judged["headline"]
    reported = harness.row_from_columns({"name": "p99", "verdict": "no target; reported"}, target="< 5 ms")
    assert reported["target"] is None and not reported["headline"]
    failed = harness.row_from_columns({"name": "PostgreSQL", "verdict": "FAILED: the child exited with 1"})
    assert failed["headline"]


def test_only_names_one_module(bench):
    run, _ = bench
    modules = ["bench_fanout", "bench_holds", "bench_lookup_overhead"]
    assert run.selected(modules, [], ["fanout"]) == ["bench_fanout"]
    assert run.selected(modules, [], ["bench_holds", "fanout"]) == ["bench_fanout", "bench_holds"]
    assert run.selected(modules, ["o"], []) == modules
    with pytest.raises(SystemExit, match="no such module: bench_nothing"):
        run.selected(modules, [], ["nothing"])
