"""Run a module as `python -m` would, on the test's clock: `python -m tests.clocked INSTANT
MODULE [ARGS...]`. Subprocesses of a test (a whole `wegweiser run`) then see the instant the
test is at, not the wall clock, and time runs on from there as it does in the test."""

from __future__ import annotations

import runpy
import sys
from datetime import datetime

import time_machine


def main() -> None:
    """Travel to the instant, then run the module with the remaining arguments."""
    instant, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    with time_machine.travel(datetime.fromisoformat(instant), tick=True):
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
