"""Every example of README.md and docs/**/*.md runs, in a test, exactly as printed.

The examples are read from the markdown (tests/docs_markdown.py), so changing one that then no
longer works fails here. Only the placeholders a reader replaces are replaced: `AC…` and
`auth token` / `token` (their credentials), `XB…` / `RE…` (the SIDs the steps before gave
them), `http://127.0.0.1:8000` (the live test server's address); synopsis brackets
(`[--json]`) are taken as written. curl lines run through a subprocess, SDK snippets with the
real `twilio` SDK, manifests through the import command. Every fenced block is accounted for:
a new block fails `test_every_block_is_run_or_excused` until a test runs it.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from addons.manifest import validate_manifest
from marketplace.errors import InvalidManifest
from recordings.models import AddOnResult
from tests.docs_markdown import ROOT, block_containing, code_blocks, shell_commands

README = "README.md"
MANIFEST_DOC = "docs/manifest.md"
API_DOC = "docs/api.md"
# Every markdown file a reader is sent to: the README and everything under docs/.
DOCS = [README, *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))]
# Blocks that are not examples to run, and why.
EXCUSED = {
    ("README.md", "make run    #"): "the quick-start commands themselves: `make test` is this suite",
    ("README.md", "browsers · the twilio SDK · curl"): "a diagram",
    ("README.md", "customers' developers, SDKs"): "a diagram",
    ("docs/operations.md", "TLS proxy / load balancer"): "a diagram",
    ("docs/architecture.md", "console/      the web console"): "a diagram (tests/test_layers.py checks its order)",
    ("docs/operations.md", "gunicorn -c gunicorn.conf.py"): "production processes: tests/test_scale_out.py runs them",
}
# Blocks the tests below run, by a phrase each contains.
RUN = {
    ("README.md", "client = Client("),
    ("README.md", "client.lookups.v1.phone_numbers"),
    ("README.md", "/sandbox/v1/Messages"),
    ("README.md", "/sandbox/v1/Recordings"),
    ("README.md", "add_on_results.list()"),
    ("README.md", "manage.py create_account"),
    ("docs/api.md", "module_data_management"),
    ("docs/manifest.md", "import_listing manifest.json"),
    ("docs/manifest.md", '"unique_name": "acme_caller_name"'),
    ("docs/manifest.md", '"audio_field"'),  # recordings/tests/test_multipart_audio_field.py
    ("docs/manifest.md", '"Listing manifest is invalid"'),
}


def test_every_block_is_run_or_excused():
    assert {README, MANIFEST_DOC, API_DOC, "docs/errors.md"} <= set(DOCS)
    for name in DOCS:
        for block in code_blocks(name):
            claims = [p for f, p in (*EXCUSED, *RUN) if f == name and p in block]
            assert len(claims) == 1, f"{name}: a block no test runs (or claimed twice): {block[:200]!r}"


def placeholders(text, values):
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def run_python(source, namespace):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<README>", "exec"), namespace)  # noqa: S102 (the README's own snippet)
    return out.getvalue()


def run_curl(block, values):
    results = []
    for words in shell_commands(placeholders(block, values)):
        assert words[0] == "curl"
        done = subprocess.run(
            [*words, "--silent", "--show-error"], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    return results


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_walkthrough_as_printed(sdk, live_server, customer, publisher, bundled_listing, api):
    anagram = bundled_listing("anagram")
    voice = bundled_listing("voice_insights")
    # What `make run`'s demo data does for the demo customer: voice insights installed.
    reply = api.post("/v1/InstalledAddOns", {"AvailableAddOnSid": voice.sid, "AcceptTermsOfService": "true"})
    assert reply.status_code == 201, reply
    values = {
        "AC…:token": f"{customer.sid}:{customer.auth_token}",
        '"AC…"': f'"{customer.sid}"',
        '"auth token"': f'"{customer.auth_token}"',
        "http://127.0.0.1:8000": live_server.url,
        "XB…": anagram.sid,
    }
    namespace = {}
    try:
        run_python(placeholders(block_containing(README, "client = Client(", "python"), values), namespace)
        client = namespace["client"]
        assert [p.sid for p in client.incoming_phone_numbers.list()] and namespace[
            "installed"
        ].unique_name == "my_anagrams"

        printed = run_python(
            placeholders(block_containing(README, "client.lookups.v1.phone_numbers", "python"), values), namespace
        )
        assert "+18778TWILIO" in printed

        [message] = run_curl(block_containing(README, "/sandbox/v1/Messages", "sh"), values)
        assert message["to"] == "+14155550123" and message["from"] == "+18005550100", message
        assert message["body"] == "not good at all"

        [recording] = run_curl(block_containing(README, "/sandbox/v1/Recordings", "sh"), values)
        assert recording["sid"].startswith("RE") and recording["duration"] == "5"  # 4.2 s, counted up as Twilio does
        wait_until_settled(recording["sid"])
        values["RE…"] = recording["sid"]
        printed = run_python(
            placeholders(block_containing(README, "add_on_results.list()", "python"), values), namespace
        )
        assert printed.startswith("completed [") and "demo_voice_insights" in printed, printed
    finally:
        if "client" in namespace:
            namespace["client"].http_client.session.close()


def wait_until_settled(recording_sid, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = set(AddOnResult.objects.filter(recording__sid=recording_sid).values_list("status", flat=True))
        if statuses and statuses <= {"completed", "failed"}:
            assert statuses == {"completed"}
            return
        time.sleep(0.2)
    raise AssertionError(f"the recording's results did not settle: {statuses}")


def test_the_304_snippet_as_printed(sdk, live_server, publisher, api_for):
    shell = api_for(publisher).post("/v1/Listings", {"ModuleInfo": '{"name": "Shell"}'}).json()["sid"]
    client = sdk(publisher.sid, publisher.auth_token)
    snippet = placeholders(block_containing(API_DOC, "module_data_management", "python"), {"XB…": shell})
    run_python(snippet, {"client": client})  # 200: the pricing changes
    run_python(snippet, {"client": client})  # 304: nothing changes, and the snippet carries on
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as raised:  # what the snippet is for
        client.marketplace.v1.module_data_management(shell).update(pricing='{"body": "Free"}')
    assert raised.value.status == 304


# --- the command line, in a fresh project directory of its own ---------------------------------


@pytest.fixture(scope="module")
def fresh_var(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {**os.environ, "MARKETPLACE_VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": ""}
    subprocess.run([".venv/bin/python", "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return var, env


def run_command(line, env):
    done = subprocess.run(line, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (line, done.stdout, done.stderr)
    return done.stdout


def synopsis_lines(block):
    """Each line of a synopsis with its optional parts taken: `[--json]` -> `--json`."""
    return [re.sub(r"\[([^\]]*)\]", r"\1", line) for line in block.splitlines()]


def test_the_command_line_as_printed(fresh_var, tmp_path):
    var, env = fresh_var
    manifest = tmp_path / "manifest.json"
    manifest.write_text(block_containing(MANIFEST_DOC, '"unique_name": "acme_caller_name"', "json"))
    block = block_containing(README, "manage.py create_account", "sh")
    lines = synopsis_lines(block)
    [create] = shell_commands(placeholders(lines[0], {"NAME": "'Docs Partner'"}))
    assert create[:3] == [".venv/bin/python", "manage.py", "create_account"]
    account = json.loads(run_command(create, env))
    values = {"AC…": account["sid"], "FILE": str(manifest), "STATE": "active"}
    [imported_line, demo_line, credit_line] = [shell_commands(placeholders(line, values))[0] for line in lines[1:4]]
    imported = json.loads(run_command(imported_line, env))
    assert imported["unique_name"] == "acme_caller_name" and imported["sid"].startswith("XB")
    run_command(demo_line, env)
    run_command(demo_line, env)  # idempotent
    assert "25" in run_command(credit_line, env)

    # docs/manifest.md's import of its complete example again: a new version, the state kept.
    [doc_import] = shell_commands(
        placeholders(
            block_containing(MANIFEST_DOC, "import_listing manifest.json", "sh"),
            {"AC...": account["sid"], "manifest.json": str(manifest)},
        )
    )
    printed = run_command(doc_import, env)
    assert "Imported acme_caller_name" in printed and "version 2" in printed and "state active" in printed


def test_a_fresh_import_is_a_draft_as_the_docs_say(fresh_var, tmp_path):
    var, env = fresh_var
    manifest = json.loads(block_containing(MANIFEST_DOC, '"unique_name": "acme_caller_name"', "json"))
    manifest["unique_name"] = "acme_draft"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    account = json.loads(
        run_command([".venv/bin/python", "manage.py", "create_account", "--name", "P", "--publisher", "--json"], env)
    )
    [doc_import] = shell_commands(
        placeholders(
            block_containing(MANIFEST_DOC, "import_listing manifest.json", "sh"),
            {"AC...": account["sid"], "manifest.json": str(path)},
        )
    )
    assert "state draft" in run_command(doc_import, env)


# --- docs/manifest.md's manifests --------------------------------------------------------------


def test_the_complete_example_is_valid_as_printed():
    manifest = json.loads(block_containing(MANIFEST_DOC, '"unique_name": "acme_caller_name"', "json"))
    assert validate_manifest(manifest)["endpoint"]["params"]["e164"] == "{{ primary_address }}"


def test_the_error_example_is_what_the_import_answers():
    printed = json.loads(block_containing(MANIFEST_DOC, '"Listing manifest is invalid"', "json"))
    manifest = json.loads(block_containing(MANIFEST_DOC, '"unique_name": "acme_caller_name"', "json"))
    # The two mistakes the example shows, on the complete example without its own fields.
    for member in ("configuration_schema", "request_validation_schema", "runtime_fields"):
        manifest.pop(member)
    manifest["pricing"] = {"model": "per_minute", "price": "0.0025"}
    manifest["endpoint"]["params"] = {"e164": "{{phone}}"}
    manifest["endpoint"]["auth"] = {"type": "none"}
    with pytest.raises(InvalidManifest) as caught:
        validate_manifest(manifest)
    assert caught.value.as_body() == printed


def test_the_sample_recording_is_what_its_script_makes(tmp_path):
    sample = ROOT / "docs" / "samples" / "call.wav"
    sys.path.insert(0, str(sample.parent))
    try:
        import make_call_wav
    finally:
        sys.path.remove(str(sample.parent))
    make_call_wav.write(tmp_path / "call.wav")
    assert (tmp_path / "call.wav").read_bytes() == sample.read_bytes()
    assert sample.stat().st_size <= 200 * 1024

    from publishers import voice_insights

    result = voice_insights.analyse(voice_insights.decode_wav(sample.read_bytes(), max_ms=60_000))
    assert [d["digit"] for d in result["dtmf"]] == ["1", "5", "9", "#"] and result["duration_ms"] == 4200
    assert [s["kind"] for s in result["segments"]][:3] == ["silence", "speech", "silence"]
