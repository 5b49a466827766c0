"""Ctrl-C on `make run` stops the worker gracefully: the Procfile's worker line under honcho as
`make run` starts it, SIGINT while a task runs, and the task finishes and nothing is SIGKILLed."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASK_S = 7  # longer than honcho's default five-second grace


def makefile_run_command():
    """The honcho command of the Makefile's `run` target."""
    recipe = re.search(r"^run:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    [line] = [line.strip() for line in recipe.splitlines() if "Procfile" in line]
    return line.replace("$(BIN)/python", sys.executable).split()


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


def wait_for(output_file, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in output_file.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen in {timeout} s:\n{output_file.read_text()}")


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_ctrl_c_lets_the_task_in_flight_finish(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/run.sqlite3", "REDIS_URL": "", "Q_WORKERS": "1"}
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "createcachetable")
    [worker] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:")]
    procfile = tmp_path / "Procfile"
    procfile.write_text(worker.replace(".venv/bin/python", sys.executable) + "\n")
    command = makefile_run_command()
    command[command.index("Procfile")] = str(procfile)
    output = tmp_path / "honcho.log"
    with output.open("w") as sink:
        honcho = subprocess.Popen(
            command + ["-d", str(ROOT)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(output, "running.", 60)
        manage(
            env,
            "shell",
            "-c",
            f"from django_q.tasks import async_task; async_task('time.sleep', {TASK_S}, task_name='in-flight')",
        )
        wait_for(output, "processing", 30)
        honcho.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert honcho.wait(timeout=90) == 130, output.read_text()  # honcho's exit code after SIGINT
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
    log = output.read_text()
    assert "SIGKILL" not in log and "has stopped" in log, log
    done = manage(
        env, "shell", "-c", "from django_q.models import Task; print([(t.name, t.success) for t in Task.objects.all()])"
    )
    assert "('in-flight', True)" in done.stdout
