"""`make run`'s process manager: `honcho start`, with a stop grace longer than a task may run.

On Ctrl-C honcho sends SIGTERM to every process and SIGKILLs what still runs after its grace,
five seconds by default. A django-q2 cluster on SIGTERM finishes the tasks in flight first,
which may take up to Q_TIMEOUT (60 s), so the grace here is Q_TIMEOUT plus ten seconds: an
idle cluster still stops in about two, and a task in flight is never cut.

    .venv/bin/python deploy/honcho_start.py -f Procfile      # the arguments of `honcho start`
"""

import os
import sys

import honcho.manager
from honcho.command import main

GRACE_S = int(os.environ.get("Q_TIMEOUT", "60")) + 10

if __name__ == "__main__":
    honcho.manager.KILL_WAIT = GRACE_S
    sys.argv = ["honcho", "start", *sys.argv[1:]]
    sys.exit(main())
