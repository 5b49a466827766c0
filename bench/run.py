"""Run the benchmarks and write bench/results.json and bench/RESULTS.md.

    .venv/bin/python bench/run.py                  # every bench/bench_*.py (`make bench`)
    .venv/bin/python bench/run.py --only fanout    # bench_fanout.py alone (repeatable)
    .venv/bin/python bench/run.py fanout holds     # every module whose name contains a word

Each module exposes `run() -> list[harness.row(...)]`: one row per figure, in one shape
(figure, target, measured, unit, verdict, detail, headline), each measured against a
baseline in the same run. results.json keeps every module's last rows, so running some
modules keeps the others' figures; RESULTS.md is rendered from it: the summary table of the
headline rows first, then each module's detail. A module that raises (or returns rows of
another shape) is reported as failed and makes the exit status 1; a missed target does not
(it is a finding, written in the verdict).
"""

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
RESULTS_JSON = HERE / "results.json"

import harness  # noqa: E402  (bench/ is sys.path[0] when run as a script)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("words", nargs="*", help="run the modules whose name contains one of these")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run bench_NAME.py only")
    options = parser.parse_args(argv[1:])
    modules = selected(sorted(path.stem for path in HERE.glob("bench_*.py")), options.words, options.only)
    if not modules:
        parser.error("no benchmark module matches")

    results = load()
    try:
        ran = [(name, *run_module(name)) for name in modules]
        machine = describe_machine()  # after the runs: the database engine needs Django set up
    finally:
        harness.close()
    run_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for name, module, rows, error, seconds in ran:
        results["modules"][name] = {
            "about": " ".join((getattr(module, "__doc__", None) or "").split()),
            "run_at": run_at,
            "seconds": round(seconds, 1),
            "machine": machine,
            "error": error,
            "rows": rows,
        }
    save(results)
    print(f"bench: wrote {RESULTS_JSON.relative_to(HERE.parent)} and {RESULTS.relative_to(HERE.parent)}")
    for name, _, rows, error, _ in ran:
        for result in rows:
            print(f"  {result['figure']}: {result['verdict']}")
        if error:
            print(f"  {name}: FAILED ({error.strip().splitlines()[-1]})")
    return 1 if any(error for *_, error, _ in ran) else 0


def selected(modules, words, only):
    if only:
        wanted = {name if name.startswith("bench_") else f"bench_{name}" for name in only}
        unknown = wanted - set(modules)
        if unknown:
            raise SystemExit(f"bench: no such module: {', '.join(sorted(unknown))}")
        return [name for name in modules if name in wanted]
    if words:
        return [name for name in modules if any(word in name for word in words)]
    return modules


def run_module(name):
    """(module, rows, error, seconds) of one module's run()."""
    print(f"bench: {name} ...", flush=True)
    started = time.monotonic()
    module = None
    try:
        module = importlib.import_module(name)
        rows, error = harness.check_rows(module.run()), None
    except Exception:  # noqa: BLE001 (any failure is this module's, reported in RESULTS.md)
        rows, error = [], traceback.format_exc()
        print(error, file=sys.stderr)
    return module, rows, error, time.monotonic() - started


def load():
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {"modules": {}}


def save(results):
    results["modules"] = dict(sorted(results["modules"].items()))
    RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    RESULTS.write_text(render(results))


def describe_machine():
    cpu = _first_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    memory_kb = _first_value("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GiB" if memory_kb else "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    harness.django_ready()
    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "Memory": memory,
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Database": harness.database_engine(),
        "Platform server": harness.platform_description(),
    }


def _first_value(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


# --- RESULTS.md ----------------------------------------------------------------------------


def render(results):
    modules = results["modules"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`) from [results.json](results.json); do not edit by hand.",
        "Every figure is measured side by side with its baseline in the same run, on a machine other",
        "jobs share, so absolute times are noisy and the ratios less so. What the figures mean, and",
        "earlier runs: [docs/benchmarks.md](../docs/benchmarks.md).",
        "",
        "## Summary",
        "",
        "| bench | figure | target | measured | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, entry in modules.items():
        short = f"[{name.removeprefix('bench_')}](#{name})"
        headlines = [r for r in entry["rows"] if r["headline"]]
        for result in headlines:
            measured = _number(result["measured"], result["unit"])
            cells = [short, _cell(result["figure"]), _cell(result["target"] or "—"), measured, _cell(result["verdict"])]
            lines.append("| " + " | ".join(cells) + " |")
        if entry["error"]:
            lines.append(f"| {short} | | | | FAILED: {_cell(entry['error'].strip().splitlines()[-1])} |")
    for name, entry in modules.items():
        lines += ["", f"## {name}", "", entry["about"], "", _when(entry), ""]
        if entry["error"]:
            lines += ["**Failed:**", "", "```", entry["error"].strip(), "```"]
            continue
        lines += _table(entry["rows"])
    return "\n".join(lines) + "\n"


def _when(entry):
    machine = entry.get("machine") or {}
    described = "; ".join(f"{label}: {value}" for label, value in machine.items())
    seconds = f", {entry['seconds']:.1f} s" if entry.get("seconds") is not None else ""
    return (
        f"_Run {entry['run_at']}{seconds}. {described}_".rstrip() if described else f"_Run {entry['run_at']}{seconds}._"
    )


def _table(rows):
    columns = []
    for result in rows:
        columns += [key for key in result["detail"] if key not in columns]
    header = ["figure", "target", "measured", *columns, "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for result in rows:
        cells = [
            _cell(result["figure"]),
            _cell(result["target"] or ""),
            _number(result["measured"], result["unit"]) if result["measured"] is not None else "",
            *(_cell(result["detail"].get(column, "")) for column in columns),
            _cell(result["verdict"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _number(value, unit):
    text = _cell(value)
    return f"{text} {unit}".strip() if unit and text else text


def _cell(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
