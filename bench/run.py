"""Run every bench/bench_*.py and write bench/RESULTS.md.

    .venv/bin/python bench/run.py [name ...]     # e.g. `fanout` runs bench_fanout.py only

Each module exposes `run() -> list[dict]`: one row per figure, a "name", the figures (each
measured against a baseline in the same run) and a one-line "verdict" against its target.
A module that raises is reported as failed in RESULTS.md and makes the exit status 1; a
missed target does not (it is a finding, written in the verdict).
"""

import importlib
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"

import harness  # noqa: E402  (bench/ is sys.path[0] when run as a script)


def main(argv):
    wanted = argv[1:]
    modules = sorted(path.stem for path in HERE.glob("bench_*.py"))
    if wanted:
        modules = [name for name in modules if any(word in name for word in wanted)]
    outcomes = []
    try:
        for name in modules:
            print(f"bench: {name} ...", flush=True)
            started = time.monotonic()
            module = None
            try:
                module = importlib.import_module(name)
                rows, error = module.run(), None
            except Exception:
                rows, error = [], traceback.format_exc()
                print(error, file=sys.stderr)
            outcomes.append((name, module, rows, error, time.monotonic() - started))
        header = machine()  # after the runs: the database engine needs Django set up
    finally:
        harness.close()
    # Running some modules keeps the others' last sections: the file always has them all.
    RESULTS.write_text(merge(render(header, outcomes), RESULTS.read_text() if RESULTS.exists() else ""))
    print(f"bench: wrote {RESULTS.relative_to(HERE.parent)}")
    for name, _, rows, error, _ in outcomes:
        for row in rows:
            print(f"  {row['name']}: {row['verdict']}")
        if error:
            print(f"  {name}: FAILED ({error.strip().splitlines()[-1]})")
    return 1 if any(error for *_, error, _ in outcomes) else 0


def machine():
    cpu = _first_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    memory_kb = _first_value("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GiB" if memory_kb else "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    harness.django_ready()
    return [
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu),
        ("Cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("Memory", memory),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Database", harness.database_engine()),
        ("Platform server", harness.platform_description()),
    ]


def _first_value(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def render(header, outcomes):
    lines = ["# Benchmark results", "", "Written by `make bench` (`bench/run.py`); do not edit by hand.", ""]
    lines += [f"- **{label}:** {value}" for label, value in header]
    for name, module, rows, error, seconds in outcomes:
        lines += ["", f"## {name}", "", " ".join((getattr(module, "__doc__", None) or "").split()), ""]
        if error:
            lines += ["**Failed:**", "", "```", error.strip(), "```"]
            continue
        lines += _table(rows)
        lines += ["", f"_{seconds:.1f} s_"]
    return "\n".join(lines) + "\n"


def _sections(text):
    """The file's preamble, and its sections by module name."""
    preamble, *parts = text.split("\n## ")
    return preamble, {part.split("\n", 1)[0].strip(): "## " + part.rstrip() + "\n" for part in parts}


def merge(new, old):
    preamble, sections = _sections(new)
    _, previous = _sections(old)
    merged = {**previous, **sections}
    return preamble.rstrip() + "\n\n" + "\n".join(merged[name] for name in sorted(merged))


def _table(rows):
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    # Name first, verdict last, figures in between in the order the module gave them.
    columns = ["name"] + [c for c in columns if c not in ("name", "verdict")] + ["verdict"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |")
    return lines


def _cell(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
