"""Benchmark: this pipeline against the scripts a user could write instead, and against the floor.

    python benchmarks/bench.py [--sizes 5,40,355] [--rounds 3] [--jobs N]      (make bench)

Every contender makes the same thing: per municipality the executed case notebook and an HTML page,
in a temporary folder (the repository's reports/ and data/processed/ are never touched):

  cli-seq     per case the ``papermill`` CLI, then ``jupyter nbconvert --to html --no-input``, one after the other
  cli-par2    the same two commands per case, two cases at a time (``xargs -P 2``)
  ploomber-1  one Python process: papermill with ploomber-engine's in-process ``embedded`` engine and one
              nbconvert exporter (ploomber-engine is installed for the benchmark only, in a folder of its own)
  ploomber-2  the same script in two processes, each half of the cases
  pipeline    ``python -m pipeline run --force``

At five municipalities (the configured cases) two more rows time this pipeline's other goal in the same
interleaved rounds: ``build`` (``build --force``, a new process) and ``all-force`` (``all --force`` from
raw: build, validation, cases and every page), whose goal is against ``build`` plus ``cli-seq``.

The CLI peers run up to ``--cli-max`` municipalities, the ploomber peers up to ``--peers-max`` (both 40 by
default: at 355 the goal is against the floor, and one round of every peer takes about half an hour).
Rounds are interleaved (contender order rotates per round); min and median per contender and size.
The floor is computed from measured parts: importing pandas, matplotlib, papermill, nbconvert and
``pipeline`` once, plus per notebook its in-process execution and rendering with a warm exporter,
spread over the cores; the "busy" floor measures the same parts with one floor script per core running
at once (the cores share caches and memory bandwidth, as they do for every parallel contender). Peak
memory is the largest sum of PSS over the contender's process tree, sampled every 50 ms in one more
run of each contender after its timed rounds (sampling slows what it samples). The load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_build import build_times  # noqa: E402
from conftest import write_config  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.run.execute import NOTEBOOK, ensure_kernel  # noqa: E402
from pipeline.run.runner import default_jobs  # noqa: E402

BIN = Path(sys.executable).parent
PLOOMBER = ["ploomber-engine==0.0.33", "ploomber-core==0.2.27"]
BUILD, ALL_FORCE = "build", "all-force"  # this pipeline's own rows beside `pipeline` (run --force), at 5 cases
OWN = ("pipeline", BUILD, ALL_FORCE)     # never a peer of `run`

PEER_SCRIPT = textwrap.dedent('''
    import sys, papermill as pm
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(); exporter.exclude_input = True
    config, out, cwd = sys.argv[1:4]
    for code in sys.argv[4:]:
        target = f"{out}/{code}.ipynb"
        pm.execute_notebook(NOTEBOOK, target, engine_name="embedded", progress_bar=False, cwd=cwd,
                            parameters={"case": code, "config_path": config, "output_dir": f"{out}/cases/{code}"})
        body, _ = exporter.from_filename(target)
        open(f"{out}/{code}.html", "w", encoding="utf-8").write(body)
''').replace("NOTEBOOK", repr(str(NOTEBOOK)))

FLOOR_SCRIPT = textwrap.dedent('''
    import sys, time, json
    import papermill as pm
    from pipeline.run.engine import register
    from pipeline.report.render import render_case, warm_up
    from pipeline.workflow import preload
    preload(); register()
    config, out, cwd = sys.argv[1:4]
    ex, rd = [], []
    for code in sys.argv[4:]:
        started = time.perf_counter()
        pm.execute_notebook(NOTEBOOK, f"{out}/{code}.ipynb", engine_name="inprocess", progress_bar=False, cwd=cwd,
                            parameters={"case": code, "config_path": config, "output_dir": f"{out}/cases/{code}"})
        ex.append(time.perf_counter() - started)
        started = time.perf_counter()
        open(f"{out}/{code}.html", "w").write(render_case(__import__("pathlib").Path(f"{out}/{code}.ipynb"), code, True, ""))
        rd.append(time.perf_counter() - started)
    print(json.dumps({"execute": ex, "render": rd}))
''').replace("NOTEBOOK", repr(str(NOTEBOOK)))


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(proc.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def run(cmd, env=None, shell=False, sample: bool = False) -> tuple[float, float, float]:
    """Seconds of one command, with ``sample`` its peak MB (PSS of the whole process tree, else 0), and the
    CPU seconds (user + system) of its whole process tree: on ``cores`` cores no schedule of that work can
    take less than CPU / cores, whatever runs in parallel.

    The timed rounds do not sample: every 50 ms the sampler scans /proc and has the kernel walk the page
    tables of each process in the tree (smaps_rollup), which costs the command 4-11% at 40 notebooks, and
    more the more processes it forks. Memory gets a run of its own (:func:`peak_mb`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    peak, done = [0], threading.Event()

    def sample_tree():
        while not done.wait(0.05):
            peak[0] = max(peak[0], sum(_pss_kb(p) for p in _tree(process.pid)))

    sampler = threading.Thread(target=sample_tree, daemon=True)
    if sample:
        sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every descendant was waited for: all of the tree
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    if sample:
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{err[-2000:]}")
    return seconds, peak[0] / 1024, cpu


def peak_mb(contender) -> float:
    """The peak memory of one more run of ``contender`` (a function taking ``sample``), not timed."""
    return contender(sample=True)[1]


def floor_parts(py: str, script: Path, config_path: Path, folder: Path, probe: list[str], env: dict,
                copies: int) -> tuple[float, float]:
    """Median seconds per notebook (execute, render) of the floor script on ``probe``, the first notebook of
    each process left out; ``copies`` scripts run at once, each on all of ``probe`` in a folder of its own."""
    processes = []
    for copy in range(copies):
        out = folder / str(copy)
        out.mkdir(parents=True, exist_ok=True)
        processes.append(subprocess.Popen([py, str(script), str(config_path), str(out), str(ROOT), *probe], cwd=ROOT,
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    execute, render = [], []
    for process in processes:
        stdout, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"the floor script failed (exit {process.returncode})")
        parts = json.loads(stdout.strip().splitlines()[-1])
        execute += parts["execute"][1:] or parts["execute"]
        render += parts["render"][1:] or parts["render"]
    return statistics.median(execute), statistics.median(render)


def install_ploomber(folder: Path) -> Path:
    """ploomber-engine into a folder of its own (never into the environment: not a runtime dependency)."""
    if not (folder / "ploomber_engine").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--target", str(folder), *PLOOMBER], check=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,40,355", help="numbers of municipalities (default 5,40,355)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--cli-max", type=int, default=40,
                        help="run the CLI peers only up to this many municipalities (at 355 one round takes ~20 min)")
    parser.add_argument("--peers-max", type=int, default=40,
                        help="run the ploomber peers only up to this many municipalities (at 355 one round of both "
                             "takes ~13 min; the goal there is against the floor)")
    parser.add_argument("--deps", type=Path, default=Path(tempfile.gettempdir()) / "h6-bench-deps")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cores = args.jobs or default_jobs()
    kernel = ensure_kernel()
    deps = install_ploomber(args.deps)
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="h6-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peer_env = {**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{deps}"}
    py = str(BIN / "python")
    try:
        config_path = write_config(tmp)
        config = load_config(config_path)
        pipe = [py, "-m", "pipeline"]
        build_cold = [run(pipe + ["build", "--force", "--config", str(config_path)], env)[0] for _ in range(3)]
        build_inprocess = build_times(3, config_path)   # build_all itself, without imports and validation
        with open(config.processed_dir / "gemeenten.csv", encoding="utf-8") as handle:
            every = [row["code"] for row in csv.DictReader(handle)]
        configured = [c.code for c in config.cases]
        script = tmp / "peer.py"
        script.write_text(PEER_SCRIPT)
        (tmp / "floor.py").write_text(FLOOR_SCRIPT)
        case_sh = tmp / "case.sh"
        case_sh.write_text(f'set -e\n"{BIN}/papermill" "{NOTEBOOK}" "$2/$1.ipynb" -k {kernel} --cwd "{ROOT}" '
                           f'-p case "$1" -p config_path "{config_path}" -p output_dir "$2/cases/$1" --no-progress-bar '
                           f'2>/dev/null\n"{BIN}/jupyter" nbconvert --to html --no-input "$2/$1.ipynb" 2>/dev/null\n')

        def contenders(codes, out):
            def fresh(name):
                folder = out / name
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                return folder
            half = (len(codes) + 1) // 2
            found = {}
            if len(codes) <= args.cli_max:
                found["cli-seq"] = lambda sample=False: run(" && ".join(
                    f"sh {case_sh} {c} {fresh('cli-seq') if i == 0 else out / 'cli-seq'}" for i, c in enumerate(codes)),
                    env, shell=True, sample=sample)
                found["cli-par2"] = lambda sample=False: run(f"printf '%s\\n' {' '.join(codes)} | xargs -P 2 -I{{}} "
                                                             f"sh {case_sh} {{}} {fresh('cli-par2')}", env, shell=True,
                                                             sample=sample)
            if len(codes) <= args.peers_max:
                found["ploomber-1"] = lambda sample=False: run([py, str(script), str(config_path), str(fresh("pl1")),
                                                                str(ROOT), *codes], peer_env, sample=sample)
                found["ploomber-2"] = lambda sample=False: run(f"{py} {script} {config_path} {fresh('pl2')} {ROOT} "
                                                               f"{' '.join(codes[:half])} & {py} {script} {config_path} "
                                                               f"{out / 'pl2'} {ROOT} {' '.join(codes[half:])} & wait",
                                                               peer_env, shell=True, sample=sample)
            if len(codes) == len(configured) == 5 and len(codes) <= args.cli_max:
                # the goal of `all --force` is against the build plus cli-seq: all three in the same
                # interleaved rounds, so that a slow minute of the machine falls on each of them alike
                found[BUILD] = lambda sample=False: run(pipe + ["build", "--force", "--config", str(config_path)],
                                                        env, sample=sample)
                found[ALL_FORCE] = lambda sample=False: run(pipe + ["all", "--force", "--config", str(config_path)],
                                                            env, sample=sample)
            case_args = [a for c in codes for a in ("--case", c)]
            found["pipeline"] = lambda sample=False: run(pipe + ["run", "--force", "--config", str(config_path),
                                                                 *case_args, *(["--jobs", str(args.jobs)] if args.jobs else [])],
                                                         env, sample=sample)
            return found

        results: dict[tuple[int, str], list[tuple[float, float]]] = {}
        peaks: dict[tuple[int, str], float] = {}
        floors, busy_floors = {}, {}
        for n in sizes:
            codes = (configured + [c for c in every if c not in configured])[:n]
            out = tmp / f"n{n}"
            found = contenders(codes, out)
            names = list(found)
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    results.setdefault((n, name), []).append(found[name]())
            for name in names:
                peaks[(n, name)] = peak_mb(found[name])
            # the floor, from measured parts (one process, notebooks one after the other)
            probe = codes[: min(len(codes), 10)]
            imports = min(run([py, "-c", "import pandas, matplotlib, papermill, nbconvert, pipeline.case.notebook"], env)[0]
                          for _ in range(3))
            per_nb, per_render = floor_parts(py, tmp / "floor.py", config_path, out / "floor", probe, env, 1)
            floors[n] = (imports + n * (per_nb + per_render) / cores, imports, per_nb, per_render)
            # the same parts measured with every core busy (one floor script per core at once): what a
            # notebook costs when the cores share caches and memory, as in every parallel contender
            busy_nb, busy_render = floor_parts(py, tmp / "floor.py", config_path, out / "floor-busy", probe, env, cores)
            busy_floors[n] = (imports + n * (busy_nb + busy_render) / cores, busy_nb, busy_render)

    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    print(f"\nmake bench: {os.cpu_count()} cores, {args.rounds} interleaved rounds, load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    print(f"{'contender':<12} {'n':>4} {'min s':>8} {'median s':>9} {'s/notebook':>11} {'peak MB':>8} {'CPU s':>7}")
    for (n, name), values in results.items():
        seconds = [v[0] for v in values]
        fastest = min(values)  # the CPU seconds of that round: what the work itself costs
        print(f"{name:<12} {n:>4} {min(seconds):8.2f} {statistics.median(seconds):9.2f} "
              f"{min(seconds) / n:11.3f} {peaks[(n, name)]:8.0f} {fastest[2]:7.1f}")
    for n, (floor, imports, per_nb, per_render) in floors.items():
        print(f"{'floor':<12} {n:>4} {floor:8.2f} {'':>9} {floor / n:11.3f}   = imports {imports:.2f} + "
              f"{n} x ({per_nb:.3f} execute + {per_render:.3f} render) / {cores} cores")
        busy, busy_nb, busy_render = busy_floors[n]
        print(f"{'floor, busy':<12} {n:>4} {busy:8.2f} {'':>9} {busy / n:11.3f}   the same, the parts measured with "
              f"{cores} floor scripts at once: {busy_nb:.3f} execute + {busy_render:.3f} render")
    print()
    best = lambda n, name: min(v[0] for v in results[(n, name)])  # noqa: E731
    for n in sizes:
        floor_ratio = best(n, "pipeline") / floors[n][0]
        busy_ratio = best(n, "pipeline") / busy_floors[n][0]
        peers = {name: best(n, name) for (m, name) in results if m == n and name not in OWN}
        if not peers:
            print(f"n={n:<4} run: {floor_ratio:.2f}x of the floor (goal <= 1.15 at 355); "
                  f"{busy_ratio:.2f}x of the floor with every core busy")
            continue
        fastest = min(peers, key=peers.get)
        ratio = peers[fastest] / best(n, "pipeline")
        print(f"n={n:<4} run vs fastest peer ({fastest}): {ratio:.2f}x  (goal >= 1.3x at 5 and 40)   "
              f"vs floor: {floor_ratio:.2f}x of the floor (goal <= 1.15 at 355); {busy_ratio:.2f}x of the busy floor")
        # the same notebook in-process is what the floor measures: a peer this close to it leaves no 1.3x
        print(f"       {fastest} itself is {peers[fastest] / floors[n][0]:.2f}x of the floor: 1.3x faster than it "
              f"means {peers[fastest] / floors[n][0] / 1.3:.2f}x of the floor, "
              f"{peers[fastest] / busy_floors[n][0] / 1.3:.2f}x of the busy floor")
        cpu = min(results[(n, "pipeline")])[2]
        print(f"       pipeline CPU {cpu:.1f} s: on {cores} cores at least {cpu / cores:.2f} s "
              f"({peers[fastest] / (cpu / cores):.2f}x faster than {fastest} at most, with this much work)")
    if (5, ALL_FORCE) in results:
        baseline = best(5, BUILD) + best(5, "cli-seq")
        fastest = min(results[(5, ALL_FORCE)])
        median = lambda name: statistics.median(v[0] for v in results[(5, name)])  # noqa: E731
        print(f"all --force from raw: {fastest[0]:.2f} s; build + cli-seq {baseline:.2f} s: "
              f"{baseline / fastest[0]:.2f}x  (goal >= 5x; medians {median(BUILD) + median('cli-seq'):.2f} s "
              f"against {median(ALL_FORCE):.2f} s: {(median(BUILD) + median('cli-seq')) / median(ALL_FORCE):.2f}x); "
              f"peak {peaks[(5, ALL_FORCE)]:.0f} MB")
        # the work itself bounds it: spread perfectly over the cores it cannot take less than CPU / cores
        print(f"       its CPU {fastest[2]:.1f} s on {cores} cores: at least {fastest[2] / cores:.2f} s, "
              f"{baseline / (fastest[2] / cores):.2f}x at most; 5x needs {baseline / 5:.2f} s, "
              f"at most {baseline / 5 * cores:.1f} s of CPU")
    if (5, BUILD) in results:
        build_cold = [v[0] for v in results[(5, BUILD)]]
    print(f"build --force via the CLI (a new process: imports, build, validation): min {min(build_cold):.2f} s")
    print(f"build (raw -> processed, 355 municipalities, build_all in-process): min {min(build_inprocess):.2f} s  "
          "(goal < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
