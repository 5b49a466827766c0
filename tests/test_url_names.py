"""API paths are built with reverse() from named URL patterns, never by hand: every API
pattern has a name, and no module spells an API path out."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

API = ("v1/", "2010-04-01/", "sandbox/", "callbacks/", "downloads/")
APPS = ("accounts", "addons", "billing", "console", "marketplace", "recordings")
# An API path spelled out in code: "/v1/Alerts", f"/2010-04-01/Accounts/{sid}"... (a bare prefix is not one).
HAND_BUILT = re.compile(r"""f?["'](?:\{[^}]+\})?/(?:v1|2010-04-01|sandbox/v1|callbacks/v1|downloads/v1)/[A-Za-z{]""")


def patterns(resolver_patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if resolver_patterns is None else resolver_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name


def test_every_api_url_pattern_is_named():
    api = [(route, name) for route, name in patterns() if route.startswith(API)]
    assert len(api) >= 35
    assert [route for route, name in api if not name] == []
    names = [name for _, name in api]
    assert len(names) == len(set(names)), "two patterns share a name"


def test_no_module_builds_an_api_path_by_hand():
    found = []
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HAND_BUILT.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert found == []
