"""Child processes that end with the process that started them, and how a child ended, in words.

`breach up` starts the broker and the worker as processes of their own session (a Ctrl-C at the
terminal reaches `breach up` alone, which stops them in order). A `breach up` killed without a
chance to stop them (SIGKILL, the OOM killer, a closed CI runner) left them running: the broker
holding its port and every record, the worker still consuming. On Linux the kernel can send a
child a signal when its parent ends (prctl PR_SET_PDEATHSIG); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(signum: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for subprocess.Popen: the child gets ``signum`` when its parent ends; None
    off Linux. The kernel ties this to the *thread* that started the child: start such children
    from the main thread (the event loop's), never from a worker thread that may end first."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before the call above: no signal will come
            os.kill(os.getpid(), signum)

    return preexec


def how_it_ended(returncode: int) -> str:
    """A Popen return code as an on-call reads it: ``killed by SIGKILL``, ``exit code 1``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
