"""Run every benchmark with its default settings, one after another, and sum up.

Run: ``python benchmarks/run_all.py [NAME ...]`` (names without ``.py``, e.g. ``wire_bench
table_bench``; none for all, in the order below).

Each script runs in its own interpreter (the same Python as this one), one at a time so that
they do not compete for the cores they measure, with its output passed straight through. A
summary line per script follows; the exit status is 1 when any of them missed a target (or
failed to run). The whole set takes several minutes: the console and soak runs dominate.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Quick ones first, so a broken build shows before the long runs start.
SCRIPTS = (
    "wire_bench",
    "table_bench",
    "limiter_bench",
    "multiproc_bench",
    "console_bench",
    "scale_bench",
    "soak",
)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scripts in sequence; exit status 1 when any of them failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(SCRIPTS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SCRIPTS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    outcomes: list[tuple[str, int, float]] = []
    for name in args.names or SCRIPTS:
        print(f"==> {name}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py")], check=False).returncode
        outcomes.append((name, code, time.monotonic() - started))
        print(flush=True)
    for name, code, seconds in outcomes:
        print(f"{'PASS' if code == 0 else 'FAIL'}  {name} ({seconds:.0f} s, exit {code})")
    return 1 if any(code for _, code, _ in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
