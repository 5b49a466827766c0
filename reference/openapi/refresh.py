"""Refresh these files from Twilio's twilio-oai repository (run from the repo root):

    python reference/openapi/refresh.py /path/to/twilio-oai   # a checkout, or its bare git dir

Marketplace v1 and Lookups v1 are copied whole; of the 2010 API we keep the paths already in
the subset, with every component they refer to (and the rest of the document as upstream has
it). Afterwards run tests/test_openapi_conformance.py, test_openapi_schema.py and
test_schemathesis.py: they hold the server to these files.
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHOLE = ("twilio_marketplace_v1.json", "twilio_lookups_v1.json")
SUBSET = "twilio_api_v2010.subset.json"


def upstream(repo, name):
    return subprocess.run(
        ["git", f"--git-dir={git_dir(repo)}", "show", f"HEAD:spec/json/{name}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_dir(repo):
    repo = Path(repo)
    return repo / ".git" if (repo / ".git").exists() else repo


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def subset(full, paths):
    document = dict(full)
    document["info"] = {
        **full["info"],
        "description": full["info"]["description"] + " (subset: paths used by the marketplace)",
    }
    document["paths"] = {path: full["paths"][path] for path in full["paths"] if path in paths}
    schemas, pending = {}, list(refs(document["paths"]))
    while pending:
        name = pending.pop()
        if name not in schemas:
            schemas[name] = full["components"]["schemas"][name]
            pending.extend(refs(schemas[name]))
    document["components"] = {**full["components"], "schemas": dict(sorted(schemas.items()))}
    return document


def main(repo):
    for name in WHOLE:
        (HERE / name).write_text(upstream(repo, name))
    kept = json.loads((HERE / SUBSET).read_text())["paths"]
    full = json.loads(upstream(repo, "twilio_api_v2010.json"))
    (HERE / SUBSET).write_text(json.dumps(subset(full, kept), indent=1))
    commit = subprocess.run(["git", f"--git-dir={git_dir(repo)}", "rev-parse", "HEAD"], capture_output=True, text=True)
    print(f"refreshed from twilio-oai {commit.stdout.strip()}")


if __name__ == "__main__":
    main(sys.argv[1])
