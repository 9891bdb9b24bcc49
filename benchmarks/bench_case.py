"""Benchmark one case notebook: its in-process execution and rendering, per notebook, after ``preload()``.

    python benchmarks/bench_case.py [--cases 5] [--rounds 3] [--profile [--top 25]] [--json]

What ``FLOOR_SCRIPT`` of ``benchmarks/bench.py`` measures, for a few cases, in two ways:

  one process   after :func:`pipeline.workflow.preload`, the notebooks one after the other in this process
                (papermill, engine ``inprocess``), each report rendered right after (FLOOR_SCRIPT)
  forked        per notebook a child forked from the preloaded process, as ``pipeline run`` does: every
                notebook starts from the state ``preload()`` left, nothing a previous case cached

Per notebook the execute and render seconds, wall clock and CPU time of the process (less disturbed when the
machine is shared); per case the min over ``--rounds`` rounds (take the min). ``--profile`` runs every case once
more in a forked child under cProfile and prints the top functions over those runs (by own and by cumulative
time); ``--json`` also prints the minima as one line of JSON.

The bundled snapshot is built into a temporary folder first; notebooks, reports, tables and figures are written
there only (the repository's reports/ and data/processed/ are never touched) and removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import write_config  # noqa: E402


def run_one(config_path: str, out: Path, code: str) -> dict:
    """Execute and render one case notebook into ``out``: wall seconds ``execute``, ``render`` and the CPU
    seconds of this process ``execute_cpu``, ``render_cpu`` (less disturbed by other work on a shared machine)."""
    import papermill as pm

    from pipeline.run.execute import NOTEBOOK
    from pipeline.report.render import render_case

    out.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    pm.execute_notebook(str(NOTEBOOK), str(out / f"{code}.ipynb"), engine_name="inprocess", progress_bar=False,
                        cwd=str(ROOT), parameters={"case": code, "config_path": config_path,
                                                   "output_dir": str(out / "cases" / code)})
    times = {"execute": time.perf_counter() - started, "execute_cpu": time.process_time() - cpu}
    started, cpu = time.perf_counter(), time.process_time()
    (out / f"{code}.html").write_text(render_case(out / f"{code}.ipynb", code, True, ""), encoding="utf-8")
    return {**times, "render": time.perf_counter() - started, "render_cpu": time.process_time() - cpu}


def forked(config_path: str, out: Path, code: str, profile: Path | None = None) -> dict:
    """:func:`run_one` in a child forked from this (preloaded) process; the child exits afterwards."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        status = 0
        try:
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            times = run_one(config_path, out, code)
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile))
            payload = json.dumps(times).encode()
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            payload, status = json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode(), 1
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    result = json.loads(payload or b'{"error": "the child died"}')
    if "error" in result:
        raise SystemExit(f"{code}: {result['error']}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5, help="how many cases (the configured ones first)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile every case once (forked, cProfile)")
    parser.add_argument("--top", type=int, default=25, help="functions to list per profile table")
    parser.add_argument("--json", action="store_true", help="also print the minima as one JSON line")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="h6-bench-case-"))
    try:
        from pipeline.build.processed_data import build_all
        from pipeline.config import load_config

        config_path = str(write_config(tmp))
        config = load_config(config_path)
        with contextlib.redirect_stdout(io.StringIO()):  # the build's warnings about the snapshot
            build_all(config)

        with open(config.processed_dir / "gemeenten.csv", encoding="utf-8") as handle:
            every = [row["code"] for row in csv.DictReader(handle)]
        configured = [c.code for c in config.cases]
        codes = (configured + [c for c in every if c not in configured])[:args.cases]

        from pipeline.run.engine import register
        from pipeline.workflow import preload

        started = time.perf_counter()
        preload()
        register()
        print(f"preload: {time.perf_counter() - started:.2f} s; load average {os.getloadavg()[0]:.2f}")

        results: dict[str, dict[str, list[dict]]] = {"one process": {}, "forked": {}}
        for r in range(args.rounds):  # every forked child starts from what preload() left, nothing more
            for code in codes:
                results["forked"].setdefault(code, []).append(forked(config_path, tmp / f"forked{r}", code))
        files = []  # --profile: each case once more in a child, also before this process ran any case itself
        if args.profile:
            for code in codes:
                files.append(tmp / f"{code}.prof")
                forked(config_path, tmp / "profile", code, profile=files[-1])
        for r in range(args.rounds):  # after the forked rounds: these leave their caches in this process
            for code in codes:
                results["one process"].setdefault(code, []).append(run_one(config_path, tmp / f"inproc{r}", code))

        print(f"\nper notebook, min of {args.rounds} rounds (seconds; cpu: CPU seconds of the process); "
              f"load average now {os.getloadavg()[0]:.2f}\n")
        keys = ("execute", "render", "execute_cpu", "render_cpu")
        print(f"{'case':<8} {'one process':^44} {'forked':^44}")
        print(f"{'':<8} " + " ".join(f"{k.replace('_cpu', ' cpu'):>11}" for k in keys) * 2)
        best = {mode: {code: {k: min(t[k] for t in runs) for k in keys} for code, runs in found.items()}
                for mode, found in results.items()}
        for code in codes:
            print(f"{code:<8} " + " ".join(f"{best[mode][code][k]:11.3f}" for mode in results for k in keys))
        print(f"{'mean':<8} " + " ".join(f"{sum(best[mode][c][k] for c in codes) / len(codes):11.3f}"
                                         for mode in results for k in keys))
        # the first in-process notebook pays what preload() does not; later ones profit from its caches
        later = codes[1:] or codes
        print(f"one process, cases 2-{len(codes)} only: " + ", ".join(
            f"{k} {sum(best['one process'][c][k] for c in later) / len(later):.3f}" for k in keys))
        if args.json:
            print(json.dumps(best))

        if files:
            stats = pstats.Stats(*map(str, files), stream=io.StringIO())
            for key in ("tottime", "cumulative"):
                text = io.StringIO()
                stats.stream = text
                stats.sort_stats(key).print_stats(args.top)
                print(f"\nprofile, {len(codes)} forked cases, by {key}:")
                print(text.getvalue().split("\n\n", 1)[-1].rstrip())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
