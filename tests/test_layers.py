"""Imports run one way: import-linter's contracts (pyproject.toml) hold, cover every app, and
the pictures in README.md and docs/architecture.md draw exactly those layers."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config, config["contracts"]


def layers():
    [contract] = [c for c in contracts()[1] if c["type"] == "layers"]
    return contract["layers"]


def pictured_apps(markdown, needle):
    """The top-level packages a picture names, top to bottom (lines opening with ` name/`)."""
    text = (ROOT / markdown).read_text()
    blocks = [body for _, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]
    [block] = [b for b in blocks if needle in b]
    return [m.group(1) for m in re.finditer(r"^ (\w+)/ ", block, re.M)]


def test_the_contracts_hold():
    done = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_app_of_ours_is_in_a_layer():
    ours = {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}
    assert ours == set(layers())
    config, _ = contracts()
    assert set(config["root_packages"]) == ours | {"publishers"}


def test_the_example_publishers_stand_apart_both_ways():
    forbidden = [c for c in contracts()[1] if c["type"] == "forbidden"]
    assert {"source": ["publishers"], "forbidden": sorted(layers())} in [
        {"source": c["source_modules"], "forbidden": sorted(c["forbidden_modules"])} for c in forbidden
    ]
    assert any(
        set(c["source_modules"]) == set(layers()) and c["forbidden_modules"] == ["publishers"] for c in forbidden
    )


def test_the_pictures_draw_the_layers_in_their_order():
    for markdown, needle in (("docs/architecture.md", "console/"), ("README.md", "customers' developers, SDKs")):
        drawn = pictured_apps(markdown, needle)
        assert [name for name in drawn if name in layers()] == layers(), markdown
        assert "publishers" in drawn, markdown
