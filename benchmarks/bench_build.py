"""Benchmark of the build step alone: raw snapshot -> processed tables for all 355 municipalities.

    python benchmarks/bench_build.py [--runs 5] [--imports 5]

Times ``pipeline.build.processed_data.build_all`` itself, in-process: ``--runs`` full rebuilds one after the other in one
interpreter, each into a temporary processed folder (a copy of config/study.yml pointing there, as the tests
make it; the repository's data/processed is never touched). Separately it times the import of
``pipeline.build.processed_data`` (pandas, numpy, the config schema) in ``--imports`` fresh interpreters. Prints min and
median of both. The machine may be shared: the min is the number to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

IMPORT_PROBE = ("import time; started = time.perf_counter(); import pipeline.build.processed_data; "
                "print(time.perf_counter() - started)")


def import_times(runs: int) -> list[float]:
    """Seconds to import ``pipeline.build.processed_data`` in a fresh interpreter, once per run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", IMPORT_PROBE], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True)
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return seconds


def build_times(runs: int, config_path: Path | None = None) -> list[float]:
    """Seconds of ``build_all`` per run, in this process; into a temporary processed folder unless
    ``config_path`` (a config whose folders are temporary already) is given."""
    from conftest import write_config

    from pipeline.build.processed_data import build_all
    from pipeline.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="h6-bench-build-"))
    try:
        config = load_config(config_path or write_config(tmp))
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):   # the build's warnings, the same every run
                build_all(config)
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(seconds: list[float]) -> str:
    return (f"min {min(seconds):.3f} s, median {statistics.median(seconds):.3f} s  "
            f"({', '.join(f'{s:.3f}' for s in seconds)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="build_all runs in this process (default 5)")
    parser.add_argument("--imports", type=int, default=5, help="fresh interpreters timing the import (default 5)")
    args = parser.parse_args()
    imports = import_times(args.imports)
    builds = build_times(args.runs)
    import pipeline

    print(f"pipeline from {Path(pipeline.__file__).parent}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"import pipeline.build.processed_data (fresh interpreter, {args.imports} runs): {summary(imports)}")
    print(f"build_all (raw -> processed, 355 municipalities, in-process, {args.runs} runs): {summary(builds)}  "
          "(goal < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
