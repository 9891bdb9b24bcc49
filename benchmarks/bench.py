"""Benchmark: the plain papermill + nbconvert loop against this pipeline, on the bundled snapshot.

    python benchmarks/bench.py [--jobs N] [--runs N]      (make bench)

Everything is written to a temporary folder (a config from tests/conftest.write_config); reports/
and data/processed/ of the repository are never touched. Measured, in one run:

  raw->processed  ``python -m pipeline build`` (indicators and the validation table; cold, then no-op)
  (a) naive       per case the ``papermill`` CLI, then ``jupyter nbconvert --to html --no-input``,
                  sequentially (a fresh kernel and a fresh nbconvert per notebook)
  (b) cold        ``python -m pipeline run``: the five case notebooks executed and rendered to HTML,
                  nothing cached, kernels started cold: the same outputs as (a), the like-for-like
                  comparison
  (b+) cold all   ``python -m pipeline all`` with processed data in place: (b) plus what (a) does not
                  make at all (index, overview with scatter plot, validation page, xlsx workbook)
  (c) no-op       ``python -m pipeline all`` again: everything up to date
  (d) every       ``python -m pipeline run --all-municipalities``: every municipality of the snapshot
                  as a case, cold (``--runs N``: instead the five cases executed N times through the
                  same Runner code path, each into its own output paths)

Peak memory is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest process waited for so
far (the pipeline process with its kernel threads, or one kernel).
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
from pipeline.execute import NOTEBOOK, Runner, Task, default_jobs, ensure_kernel, timestamp  # noqa: E402

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
    parser.add_argument("--runs", type=int, default=None,
                        help="(d): the five cases executed N times instead of every municipality")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    kernel = ensure_kernel()
    tmp = Path(tempfile.mkdtemp(prefix="h6-bench-"))
    try:
        (tmp / "pipe").mkdir()
        config_path = write_config(tmp / "pipe")
        config = load_config(config_path)
        pipe = [str(BIN / "python"), "-m", "pipeline"]
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
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

        # (b) cold, the five cases; (b+) cold, everything; (c) no-op
        cold_run = timed(pipe + ["run", "--config", str(config_path), *jobs])
        shutil.rmtree(config.reports_dir)
        cold_all = timed(pipe + ["all", "--config", str(config_path), *jobs])
        noop = timed(pipe + ["all", "--config", str(config_path), *jobs])
        sizes = [p.stat().st_size for p in config.reports_dir.glob("GM*.html")]
        five_peak = peak_mb()

        # (d) every municipality (or N runs of the five cases)
        if args.runs:
            runs_dir = tmp / "runs"
            stamp = timestamp()
            tasks = [Task(code=codes[i % len(codes)], config_path=str(config_path),
                          notebook=str(runs_dir / f"{i:03d}" / "notebook.ipynb"),
                          output_dir=str(runs_dir / f"{i:03d}" / "cases"),
                          html=str(runs_dir / f"{i:03d}" / "report.html"), stamp=stamp, source=str(NOTEBOOK))
                     for i in range(args.runs)]
            started = time.perf_counter()
            with Runner(args.jobs or None, kernel=kernel) as runner:
                results = runner.map(tasks)
            many = time.perf_counter() - started
            failed = [r for r in results if not r.ok]
            if failed:
                raise SystemExit(f"{len(failed)} of {args.runs} runs failed: {failed[0].error}")
            n_many, many_label = args.runs, f"(d) {args.runs} runs of the five cases"
        else:
            shutil.rmtree(config.reports_dir)
            many = timed(pipe + ["run", "--all-municipalities", "--config", str(config_path), *jobs])
            n_many = len(list((config.reports_dir / "notebooks").glob("GM*.ipynb")))
            many_label = f"(d) every municipality ({n_many}), cold"
        peak = peak_mb()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(codes)
    workers = args.jobs or default_jobs()
    rows = [
        ("raw->processed (build + validation, cold)", build_cold, "target < 3 s"),
        ("raw->processed (no-op)", build_noop, ""),
        (f"(a) naive: papermill CLI + nbconvert CLI x{n}", naive, f"{naive / n:.2f} s/notebook"),
        ("(b) pipeline cold: run (5 notebooks + HTML)", cold_run, f"{cold_run / n:.2f} s/notebook"),
        ("(b+) pipeline cold: all (+ index, overview,", cold_all, "validation page, xlsx)"),
        ("(c) pipeline no-op (all)", noop, "target < 1 s"),
        (many_label, many, f"{many / n_many:.3f} s/notebook effective, target <= 0.5"),
    ]
    print(f"\nBenchmark on the bundled snapshot ({os.cpu_count()} cores, --jobs {workers}: {workers} warm kernels, "
          f"restarted every {os.environ.get('PIPELINE_WARM_MAX_USES', '20')} notebooks)\n")
    print(f"{'step':<48} {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<48} {seconds:8.2f}  {note}")
    print(f"\nratio a/b   (five cases, like for like)       {naive / cold_run:.1f}x   target >= 5")
    print(f"ratio a/b+  (five cases, whole `all`)         {naive / cold_all:.1f}x")
    print(f"peak memory, naive loop (largest process)    {naive_peak:.0f} MB")
    print(f"peak memory, five cases (largest process)    {five_peak:.0f} MB")
    print(f"peak memory, (d) (largest process)           {peak:.0f} MB")
    print(f"report size: pipeline {min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB "
          f"(shared style.css, inline PNG), nbconvert --to html {naive_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
