"""`python -m bench.launch PROGRAM ARGS…`: run PROGRAM so that it ends when the benchmark
that started it ends, however that happens (Linux's parent-death signal survives exec)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m bench.launch PROGRAM [ARGS…]")
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between our fork and the prctl above.
        if os.getppid() == 1:
            raise SystemExit(1)
    os.execv(argv[0], argv)  # noqa: S606 - the argv is ours, built by processes.py


if __name__ == "__main__":
    main(sys.argv[1:])
