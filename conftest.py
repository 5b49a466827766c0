"""The test suite's root: every app keeps its tests beside it (`<app>/tests/`), `tests/` keeps
what spans apps, and all of them share the fixtures of these plugin modules."""

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.checks",
    "tests.fixtures.invoking",
    "tests.fixtures.faults",
    "tests.fixtures.recordings",
    "tests.fixtures.payloads",
    "tests.fixtures.cluster",
    "tests.fixtures.browser",
    "tests.fixtures.query_baseline",
]
