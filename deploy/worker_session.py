"""Runs a command in a session of its own and passes SIGTERM and SIGINT to it alone.

`make run`'s Procfile starts the worker through it. honcho stops a process by signalling its
whole process group, and django-q2's pool processes die on SIGTERM at once, cutting the task in
flight; signalled alone, the cluster's main process stops its workers after their current
tasks (Q_TIMEOUT at most), then exits.

    .venv/bin/python deploy/worker_session.py .venv/bin/python manage.py qcluster
"""

import signal
import subprocess
import sys

if __name__ == "__main__":
    child = subprocess.Popen(sys.argv[1:], start_new_session=True)

    def forward(signum, frame):
        child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    sys.exit(child.wait())
