"""Benchmark: the plain papermill + nbconvert loop against this pipeline, on the bundled snapshot.

    python benchmarks/bench.py [--runs 50] [--jobs N]      (make bench)

Everything is written to a temporary folder (a config from tests/conftest.write_config); reports/
and data/processed/ of the repository are never touched. Measured, in one run:

  raw->processed  ``python -m pipeline build`` (cold, then a no-op)
  (a) naive       per case the ``papermill`` CLI, then ``jupyter nbconvert --to html --no-input``,
                  sequentially (a fresh kernel and a fresh nbconvert per notebook)
  (b) cold        ``python -m pipeline all`` with processed data in place (run + report steps):
                  worker processes, warm kernels, rendering in the workers, nothing cached; the
                  report step also renders the validation page, overview and workbook
  (b') cold run   ``python -m pipeline run`` with no reports: what (a) does (execute + HTML per case)
  (c) no-op       the same command again: every case up to date
  (d) 50 runs     the case notebook executed N times, the five codes in rotation, each into its own
                  output paths, through the same Runner/worker/warm-engine code path as (b)
                  (``pipeline.execute.Runner.map`` with one ``Task`` per run)

Peak memory is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest child process
(a worker or a kernel) waited for so far.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import write_config  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.execute import NOTEBOOK, Runner, Task, ensure_kernel, timestamp  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd: list[str], **kw) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    kernel = ensure_kernel()
    tmp = Path(tempfile.mkdtemp(prefix="h6-bench-"))
    rows = []
    try:
        # raw -> processed
        (tmp / "pipe").mkdir()
        config_path = write_config(tmp / "pipe")
        config = load_config(config_path)
        pipe = [str(BIN / "python"), "-m", "pipeline"]
        build_cold = timed(pipe + ["build", "--config", str(config_path)])
        build_noop = timed(pipe + ["build", "--config", str(config_path)])
        codes = [c.code for c in config.cases]

        # (a) the naive loop: papermill CLI, then nbconvert CLI, per case
        naive_dir = tmp / "naive"
        naive_dir.mkdir()
        started = time.perf_counter()
        for code in codes:
            out = naive_dir / f"{code}.ipynb"
            timed([str(BIN / "papermill"), str(NOTEBOOK), str(out), "-k", kernel, "--cwd", str(ROOT),
                   "-p", "case", code, "-p", "config_path", str(config_path),
                   "-p", "output_dir", str(naive_dir / "cases" / code), "--no-progress-bar"])
            timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)])
        naive = time.perf_counter() - started
        naive_peak = peak_mb()
        naive_size = max(p.stat().st_size for p in naive_dir.glob("*.html"))

        # (b) cold and (c) no-op: the pipeline's own command line
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        cold = timed(pipe + ["all", "--config", str(config_path), *jobs])
        noop = timed(pipe + ["all", "--config", str(config_path), *jobs])
        noop_runreport = timed(pipe + ["run", "--config", str(config_path), *jobs]) + \
            timed(pipe + ["report", "--config", str(config_path), *jobs])
        sizes = [p.stat().st_size for p in config.reports_dir.glob("GM*.html")]
        shutil.rmtree(config.reports_dir)
        cold_run = timed(pipe + ["run", "--config", str(config_path), *jobs])  # cases only: execute + render

        # (d) N executions through the same worker code path, distinct outputs per run
        runs_dir = tmp / "runs"
        stamp = timestamp()
        tasks = [Task(code=codes[i % len(codes)], config_path=str(config_path),
                      notebook=str(runs_dir / f"{i:03d}" / "notebook.ipynb"),
                      output_dir=str(runs_dir / f"{i:03d}" / "cases"), html=str(runs_dir / f"{i:03d}" / "report.html"),
                      stamp=stamp, source=str(NOTEBOOK)) for i in range(args.runs)]
        started = time.perf_counter()
        with Runner(args.jobs or None, kernel=kernel) as runner:
            results = runner.map(tasks)
            workers = runner.workers
        many = time.perf_counter() - started
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"{len(failed)} of {args.runs} runs failed: {failed[0].error}")
        peak = peak_mb()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(codes)
    rows = [
        ("raw->processed (build, cold)", build_cold, ""),
        ("raw->processed (build, no-op)", build_noop, ""),
        (f"(a) naive: papermill CLI + nbconvert CLI x{n}", naive, f"{naive / n:.2f} s/notebook"),
        ("(b) pipeline cold (all, build up to date)", cold, "+ validation page, overview, xlsx"),
        ("(b') pipeline cold, cases only (run)", cold_run, f"{cold_run / n:.2f} s/notebook, HTML included"),
        ("(c) pipeline no-op (all)", noop, "5 up to date"),
        ("(c') pipeline no-op (run + report only)", noop_runreport, ""),
        (f"(d) {args.runs} executions, {workers} workers", many, f"{many / args.runs:.3f} s/notebook effective"),
    ]
    print(f"\nBenchmark on the bundled snapshot ({os.cpu_count()} cores, {workers} workers, "
          f"warm kernels restart every {os.environ.get('PIPELINE_WARM_MAX_USES', '20')} notebooks)\n")
    print(f"{'step':<48} {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<48} {seconds:8.2f}  {note}")
    print(f"\nratio a/b  (five cases, whole `all`)        {naive / cold:.1f}x")
    print(f"ratio a/b' (five cases, notebooks + HTML)   {naive / cold_run:.1f}x")
    print(f"peak memory, naive loop (largest child)    {naive_peak:.0f} MB")
    print(f"peak memory, all runs (largest child)      {peak:.0f} MB")
    print(f"report size: pipeline {min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB "
          f"(shared style.css, inline PNG), nbconvert --to html {naive_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
