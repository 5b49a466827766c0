"""docs/settings.md's table lists exactly the environment variables settings.py reads,
and settings.py is the one place that reads them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from marketplace import local_state
from marketplace.env import Env

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "addons", "billing", "console", "marketplace", "recordings"]


def read_in_settings():
    source = (ROOT / "marketplace" / "settings.py").read_text()
    return set(re.findall(r"\benv\.(?:str|int|float|flag|list)\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def documented_in_the_settings_doc():
    section = (ROOT / "docs" / "settings.md").read_text()
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(first_cells)))


def test_the_settings_doc_lists_every_variable_settings_read_and_no_other():
    read, documented = read_in_settings(), documented_in_the_settings_doc()
    assert len(read) > 30
    assert read - documented == set(), "read in settings.py but missing from docs/settings.md's table"
    assert documented - read == set(), "in docs/settings.md's table but never read"


def test_only_settings_py_reads_the_environment():
    readers = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts or path.name == "settings.py":
                continue
            if re.search(r"os\.environ\.get|os\.getenv|os\.environ\[", path.read_text()):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_env_keeps_each_kind_of_value_as_it_always_was():
    env = Env({"ON": " Yes ", "OFF": "0", "EMPTY": "", "HOSTS": " a, ,b ,", "N": "7", "X": "1.5"})
    assert (env.flag("ON"), env.flag("OFF"), env.flag("UNSET"), env.flag("UNSET", default=True)) == (
        True,
        False,
        False,
        True,
    )
    assert (env.str("EMPTY", "default"), env.str("UNSET", "default")) == ("", "default")
    assert (env.list("HOSTS"), env.list("UNSET", "c,d"), env.list("EMPTY", "c")) == (["a", "b"], ["c", "d"], [])
    assert (env.int("N", 1), env.int("UNSET", 1), env.float("X", 2), env.float("UNSET", 2)) == (7, 1, 1.5, 2.0)
    assert isinstance(env.float("UNSET", 2), float)


@pytest.mark.parametrize("kind, value", [("int", "seven"), ("int", ""), ("float", "1,5")])
def test_a_number_that_is_not_one_names_its_variable(kind, value):
    with pytest.raises(ImproperlyConfigured, match=r"^Q_WORKERS="):
        getattr(Env({"Q_WORKERS": value}), kind)("Q_WORKERS", 2)


def test_the_development_key_is_stored_once_privately_and_the_first_stored_wins(tmp_path):
    path = tmp_path / "secret_key"
    first = local_state.read_secret_key(path)
    assert not path.exists(), "reading never writes"
    assert local_state.keep_secret_key(path, first) == first
    assert path.stat().st_mode & 0o777 == 0o600
    # A second process that started before the file existed adopts the stored key.
    assert local_state.keep_secret_key(path, "another key") == first
    assert local_state.read_secret_key(path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_importing_settings_writes_nothing_and_starting_django_makes_var(tmp_path):
    var = tmp_path / "var"
    script = (
        "import os, django\n"
        "import marketplace.settings\n"
        "print(os.path.exists(os.environ['MARKETPLACE_VAR_DIR']))\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "print(sorted(os.listdir(settings.VAR_DIR)), open(settings.SECRET_KEY_FILE).read() == settings.SECRET_KEY)\n"
    )
    env = {
        **os.environ,
        "MARKETPLACE_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.splitlines() == ["False", "['secret_key', 'static'] True"], result.stderr
