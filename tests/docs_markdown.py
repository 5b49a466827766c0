"""The examples of README.md and docs/*.md, read from the markdown itself, so a test that runs
them fails when an example changes and stops working."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def code_blocks(name, language=None):
    """The fenced blocks of a markdown file (path relative to the repo), in order."""
    text = (ROOT / name).read_text()
    return [body for lang, body in _FENCE.findall(text) if language is None or lang == language]


def block_containing(name, needle, language=None):
    [block] = [b for b in code_blocks(name, language) if needle in b]
    return block


def shell_commands(block):
    """The commands of a shell block: continuation lines joined, comments dropped, split
    into words as a shell would."""
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(words)
    return commands
