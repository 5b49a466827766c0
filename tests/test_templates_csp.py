"""The console's Content-Security-Policy allows no inline style or script: a template that
brings one back (a `style=` attribute, an `on…=` handler, a `<style>` or `<script>` without
the request's nonce) breaks its page in the browser, so it is refused here, for every
template, before any browser runs."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (
        re.compile(r"<(style|script)(?![^>]*\bnonce=)(?![^>]*\bsrc=)[^>]*>", re.I),
        "an inline <style> or <script> without the nonce",
    ),
]


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(path.parents[1])))
def test_no_inline_style_or_script(template):
    text = template.read_text()
    found = [f"{what}: {match.group(0).strip()}" for pattern, what in INLINE for match in pattern.finditer(text)]
    assert not found, f"{template.name} has " + "; ".join(found)
