"""The workflow: which steps run, in which order, in which process, and which may be skipped.

    fetch  ->  data/raw  ->  build (+ check)  ->  data/processed  ->  run the case notebooks  ->  pages

Every stage's work is in its own package (:mod:`pipeline.data`, :mod:`pipeline.build`,
:mod:`pipeline.case`, :mod:`pipeline.check`, :mod:`pipeline.run`, :mod:`pipeline.report`); this module
only wires them together, as cal-itp's ``portfolio.py`` drives one papermill run per parameter set:

* **Cases.** This process imports and warms what every notebook and page needs once, in two steps
  (:func:`preload_execution`, then :func:`preload_rendering`: the first cases start between the two,
  :func:`run_tasks`), then forks a child per case (:class:`pipeline.run.runner.Runner`, ``--jobs`` at a time) that executes
  the notebook through papermill (:func:`pipeline.run.execute.run_task`) and renders its report
  (:func:`pipeline.report.render.write_case_report`): :func:`run_case`.
* **Build beside preload.** ``all`` builds raw -> processed and validates it in a child while this
  process preloads (:func:`build_while_preloading`), on the core the preload leaves free.
* **Pages** (overview, index, chapter, validation page, workbook) are direct calls run in a child the
  same way: ``runner.submit(write_index_page, ...)``. What does not depend on the cases (the overview's
  figures, the validation page, the workbook) is queued before them
  (:func:`submit_chapter_pages`); only the pages that show the cases' states wait for them.
* **Cache.** Each step runs only when its content-hash lock (:mod:`pipeline.run.cache`) says that its
  inputs or outputs changed; ``force`` reruns all.
* **Failure isolation.** A failing case does not stop the others; its lock records the failure and the
  index shows it; the run ends with :class:`~pipeline.errors.ExecutionError` naming every failure.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.case.selection import select_cases
from pipeline.config import WORKBOOK_NAME, StudyConfig, load_config
from pipeline.errors import ExecutionError, SnapshotError
from pipeline.iorw import write_text
from pipeline.memory import collector_paused, long_lived
from pipeline.processed import is_generated, preload_processed, read_names, read_provenance
from pipeline.report.render import (STYLESHEET, executed_codes, index_entry, render_case, require_executed,
                                    stale_notice, write_case_report, write_index_page)
from pipeline.run.cache import (build_lock, build_outputs, chapter_lock, index_lock, refresh_case_lock,
                                task_lock)
from pipeline.run.execute import (DEFAULT_CELL_TIMEOUT, KILL_GRACE, VALIDATION_NOTEBOOK, RunResult, Task,
                                  ensure_kernel, html_path, make_task, output_path, run_task,
                                  run_validation_notebook, timestamp)
from pipeline.run.runner import Runner


# ---------------------------------------------------------------------------------------------
# fetch -> data/raw, and what the new release changed


def fetch(args) -> int:
    """``python -m pipeline fetch``: download the tables, then the release diff (unless ``--no-diff``)."""
    from pipeline.data.fetch import fetch_tables, previous_snapshots
    from pipeline.diff import report_after_fetch

    config = load_config(args.config)
    with previous_snapshots(config.raw_dir, enabled=not getattr(args, "no_diff", False)) as previous:
        outcome = fetch_tables(config, args)
        if outcome.fetched and previous is not None:
            report_after_fetch(config, previous, debug=args.debug)
    outcome.raise_failures()
    return 0


# ---------------------------------------------------------------------------------------------
# data/raw -> data/processed


def require_current_build(config: StudyConfig) -> None:
    """Raise when the raw snapshot is corrupt or changed since ``data/processed`` was built from it.

    ``run``, ``report`` and ``validate`` read processed data only; without this check they would
    report on data that no longer follows from ``data/raw`` (``all`` rebuilds first instead)."""
    from pipeline.data.manifest import verify_snapshot

    for manifest in sorted(config.raw_dir.glob("*/manifest.json")):
        verify_snapshot(manifest.parent)
    recorded = build_lock(config).recorded()
    if recorded is None:
        return  # processed data made without the build command (a copy, a test): nothing to compare with
    current = build_lock(config).deps
    changed = [name for name in ("raw", "published", "config")
               if recorded.get("deps", {}).get(name) != current.get(name)]
    if changed:
        raise SnapshotError(f"{config.processed_dir} was built from another {' and '.join(changed)} than "
                            f"{config.raw_dir if changed[0] == 'raw' else 'the current one'}; "
                            "run `python -m pipeline build` (or `all`) first")


def build_record(config: StudyConfig):
    """The build's lock with the processed files as they are now as its outputs."""
    lock = build_lock(config)
    lock.outputs = build_outputs(config)
    return lock


def build_is_current(config: StudyConfig) -> bool:
    """Whether ``data/processed`` follows from the current snapshot, config, code and packages (said so)."""
    if build_record(config).stale_reason() is None:
        print(f"build: up to date ({config.processed_dir})", file=sys.stderr)
        return True
    return False


def build(config: StudyConfig, force: bool = False) -> None:
    """raw -> processed, then the comparison with the published report (``validation.csv``, from the
    processed tables and ``data/external/published``); skipped when the snapshot, config, code and packages
    are unchanged."""
    if not force and build_is_current(config):
        return
    with collector_paused():  # importing pandas and parsing the snapshot: objects that all stay alive
        from pipeline.build.processed_data import build_all
        from pipeline.check.validate import validate

        build_all(config)
        summary = validate(config).summary()
    print(f"validation: {summary} ({config.processed_dir / 'validation.csv'})")
    build_record(config).record()  # a build counts as done (and is skipped next time) only once validated


def build_while_preloading(config: StudyConfig, runner: Runner, force: bool = False) -> None:
    """``all``: raw -> processed and its validation (:func:`build`) in a child while this process preloads
    what the case notebooks need (:func:`preload`), on the other core: the two share no input (preload
    reads no processed data), and together the build and the validation take about as long as the
    preload, so the core the preload leaves free does them. The cases start once both are done, and every
    later step reads processed data and ``validation.csv`` as this run wrote them. A failing build raises here."""
    if force or not build_is_current(config):
        beside_preload(runner, build, config, True)


def beside_preload(runner: Runner, fn, *args, stages: int | None = None):
    """``fn(*args)`` in a child while this process preloads for ``runner`` (which it does only when work
    will certainly follow: a no-op run never pays for the preload), up to ``stages`` (None: all); its
    result, or its error raised here."""
    with Runner(1) as side:
        step = side.submit(fn, *args)
        side.start()
        runner.warm(stages)
        return step.result()


# ---------------------------------------------------------------------------------------------
# The case notebooks, each in a forked child of a preloaded process


def preload() -> None:
    """Both stages of the preload, one after the other (:func:`preload_execution`, :func:`preload_rendering`)."""
    preload_execution()
    preload_rendering()


def preload_execution() -> None:
    """Import once what every case notebook needs to execute, and pay the first-use costs (fonts, glyph
    caches, the IPython shell), so each forked child starts warm. No thread may be running at a fork.
    What it imports lives as long as the process (:func:`~pipeline.memory.long_lived`): no collections
    while it runs, then frozen, so the children's collections leave it alone (fewer pages copied on write)."""
    with long_lived():
        _import_and_warm_execution()


def _import_and_warm_execution() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import io

    import matplotlib
    import pandas  # noqa: F401
    import papermill  # noqa: F401
    from matplotlib.figure import Figure

    from pipeline.case import maps, notebook  # noqa: F401
    from pipeline.case.figures import warm_up as warm_up_figures
    from pipeline.case.provenance import versions_line
    from pipeline.run.engine import register, shell

    register()
    maps.preload()
    shell()  # the IPython shell each child runs its cells in: a pristine copy in every child
    warm_up_figures()  # the fonts, hatches and writers the case figures and maps use
    versions_line()  # git and package versions, the same on every page of this run
    figure = Figure(figsize=(1, 1))
    figure.subplots().set_title("warm")
    for fmt in ("png", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)
    matplotlib.rcdefaults()


def preload_rendering() -> None:
    """Import once what the pages need on top (nbconvert, the page modules) and compile nbconvert's and
    the pages' templates (:func:`pipeline.report.render.warm_up`): about a third of the preload, which
    the first cases need only once they have executed (:func:`run_tasks`)."""
    with long_lived():
        import nbconvert  # noqa: F401

        from pipeline.report import chapter, exports, overview, validation_page  # noqa: F401
        from pipeline.report.render import warm_up

        warm_up()


# how much of the preload (``Runner.prepare``) a child that only executes its notebook needs
EXECUTION_STAGES = 1


def case_runner(jobs: int | None = None, fresh: bool = False) -> Runner:
    """A runner whose children start from a preloaded parent. ``fresh``: the notebooks will start kernels
    (papermill's plain engine), so this interpreter's kernelspec is registered first, once."""
    if fresh:
        ensure_kernel()
    return Runner(jobs, prepare=(preload_execution, preload_rendering))


def run_case(task: Task, render: bool = True) -> RunResult:
    """In the child: execute the case notebook, then (``render``) its report, which says so when it failed."""
    result = run_task(task)
    return render_case_report(task, result) if render and task.html else result


def render_case_report(task: Task, result: RunResult) -> RunResult:
    """A case's report from its executed notebook, its time added to the case's: in the case's child, or
    in this process for the first cases, which executed before rendering was prepared (:func:`run_tasks`)."""
    started = time.perf_counter()
    try:
        write_case_report(task, result)
    except Exception as exc:  # noqa: BLE001 - the case fails, not the run
        result.error = result.error or f"rendering failed: {type(exc).__name__}: {exc}"
    result.seconds += time.perf_counter() - started
    return result


def run_tasks(runner: Runner, tasks: list[Task], progress: Callable[[RunResult], None] | None = None
              ) -> list[RunResult]:
    """Run ``tasks``, each in a child; results in their order; ``progress(result)`` as each finishes.
    A child that dies or is killed (past ``task.timeout`` and a grace period) fails its case only.

    When this process has not prepared rendering yet (:func:`preload_rendering`), the first cases (one
    fewer than the runner has slots) start once execution is prepared: they execute while this process
    prepares rendering on the core they leave free, and it renders their reports as they finish (0.1 s
    each; a child of its own would wait for a free slot). Every later case executes and renders in one child."""

    def outcome(task: Task, job) -> RunResult:
        status, value = job.value
        if status == "ok":
            return value
        failed = RunResult(task.code, Path(task.notebook), 0.0, error=f"worker failed: {value}")
        if task.html:
            try:
                write_case_report(task, failed)  # here: the child that would have is gone
            except Exception:  # noqa: BLE001 - the error is already in the result
                pass
        return failed

    def when_done(task: Task, render: bool = False):
        def finished(job) -> None:
            result = outcome(task, job)
            if render and job.value[0] == "ok" and task.html:
                render_case_report(task, result)
            job.value = ("ok", result)
            if progress:
                progress(result)
        return finished

    early = 0 if runner.is_warm() or runner.jobs < 2 else runner.jobs - 1
    executions = []
    for index, task in enumerate(tasks):
        timeout = None if task.timeout is None else task.timeout + KILL_GRACE
        if index < early:
            job = runner.submit(run_case, task, False, timeout=timeout, stages=EXECUTION_STAGES)
            job.callback = when_done(task, render=True)
        else:
            job = runner.submit(run_case, task, timeout=timeout)
            job.callback = when_done(task)
        executions.append(job)
    if early:
        runner.warm(EXECUTION_STAGES)
        runner.start(warm=False)  # the first cases, which need no more
        runner.warm()             # rendering, while they execute
    runner.wait(executions)
    return [job.result() for job in executions]


def run_cases(config: StudyConfig, wanted: list[str] | None = None, all_municipalities: bool = False, *,
              jobs: int | None = None, fresh: bool = False, force: bool = False, runner: Runner | None = None,
              stamp: str | None = None, timeout: float | None = DEFAULT_CELL_TIMEOUT) -> list[RunResult]:
    """Execute (and render) every selected case whose inputs changed; raise ExecutionError if any failed."""
    codes = select_cases(config, wanted, all_municipalities)
    stamp = stamp or timestamp()
    tasks = [make_task(config, code, stamp, fresh=fresh, timeout=timeout) for code in codes]
    results: dict[str, RunResult] = {}
    todo = []
    for task in tasks:
        if force or task_lock(config, task).stale_reason():
            todo.append(task)
        else:
            results[task.code] = RunResult(task.code, Path(task.notebook), 0.0, html=Path(task.html), skipped=True)
    up_to_date = len(tasks) - len(todo)
    if todo:
        done = [0]
        by_code = {task.code: task for task in todo}

        def progress(result: RunResult) -> None:
            # the lock is written as each case finishes: an interrupted run keeps the cases it finished
            lock = task_lock(config, by_code[result.code])
            if result.ok:
                lock.record({"seconds": round(result.seconds, 3)})
            else:
                lock.record_failure(result.error + (f" ({result.cell})" if result.cell else ""))
            done[0] += 1
            state = "ok" if result.ok else "FAILED"
            print(f"[{done[0]}/{len(todo)}] {result.code} {state} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)

        own = runner is None
        runner = runner or case_runner(jobs, fresh)
        if not fresh:  # the case children fork from this process: they share its parse of the processed files
            preload_processed(config.processed_dir)
        try:
            for task, result in zip(todo, run_tasks(runner, todo, progress)):
                results[task.code] = result
        finally:
            if own:
                runner.close()
    ordered = [results[code] for code in codes]
    executed = len(todo)
    print(f"{up_to_date} up to date, {executed} executed" if executed else f"{up_to_date} up to date",
          file=sys.stderr, flush=True)
    failed = [r for r in ordered if not r.ok]
    if failed:
        lines = "\n".join(f"  {r.code}: {r.cell + ': ' if r.cell else ''}{r.error} (notebook kept at {r.output})"
                          for r in failed)
        print(f"{len(failed)} of {len(ordered)} cases failed:\n{lines}", file=sys.stderr, flush=True)
        details = "; ".join(f"{r.code} ({r.cell + ', ' if r.cell else ''}{r.error})" for r in failed)
        error = ExecutionError(f"{len(failed)} of {len(ordered)} cases failed: {details}")
        error.results = ordered
        raise error
    return ordered


# ---------------------------------------------------------------------------------------------
# The pages


@dataclass
class Pending:
    """Steps queued on a runner; :meth:`wait` raises the first error, else runs ``on_success``."""

    futures: list = field(default_factory=list)
    on_success: Callable[[], None] | None = None
    figures: object = None  # the job drawing the overview's figures, which the overview page waits for

    def wait_for_figures(self) -> None:
        if self.figures is not None:
            self.figures.result()

    def wait(self) -> None:
        for future in self.futures:
            future.result()
        if self.on_success is not None:
            self.on_success()


def write_validation_page(config_path: str, stamp: str, fresh: bool = False) -> Path:
    """In a child: execute ``notebooks/validatie.ipynb`` and render ``reports/validation.html``."""
    config = load_config(config_path)
    executed = run_validation_notebook(config, fresh)
    generated = is_generated(read_provenance(config.processed_dir))
    target = config.reports_dir / "validation.html"
    write_text(target, render_case(executed, "Validatie hoofdstuk 6", generated, stamp))
    return target


def submit_chapter_pages(config: StudyConfig, runner: Runner, stamp: str, force: bool = False,
                         priority: int = 1, fresh: bool = False) -> Pending:
    """Queue the steps about the chapter as a whole, which do not depend on the cases: the overview's
    figures (national maps, scatter plot), the validation page (its notebook) and the workbook, each in a
    child of the runner, where pandas is imported. Skipped when their inputs are unchanged. Queued behind
    the case notebooks (``priority``), they fill the time a worker slot would otherwise idle while the
    last cases run."""
    if not force and chapter_lock(config, VALIDATION_NOTEBOOK).stale_reason() is None:
        return Pending()  # decided before importing the steps (pandas, matplotlib): a no-op run stays fast
    from pipeline.report.exports import write_workbook_file
    from pipeline.report.overview import figure_outputs, write_figures_file

    preload_processed(config.processed_dir)  # the steps' children fork from this process: they share its parse
    reports = config.reports_dir
    has_validation = (config.processed_dir / "validation.csv").exists()
    outputs = [reports / WORKBOOK_NAME, *figure_outputs(config)]
    if has_validation:
        outputs += [reports / "validation.html", reports / "notebooks" / "validatie.ipynb"]
    reports.mkdir(parents=True, exist_ok=True)
    # the longest step, and the overview page waits for it: ahead of the cases, not behind them
    figures = runner.submit(write_figures_file, str(config.path), priority=priority - 1)
    steps = [figures]
    if has_validation:
        steps.append(runner.submit(write_validation_page, str(config.path), stamp, fresh, priority=priority))
    steps.append(runner.submit(write_workbook_file, str(config.path), priority=priority))

    def done() -> None:
        # keyed on the inputs as the steps read them
        chapter_lock(config, VALIDATION_NOTEBOOK, outputs).record()
        print(f"wrote {', '.join(p.name for p in outputs if p.suffix in ('.html', '.xlsx'))} and the overview's "
              f"figures in {reports}", file=sys.stderr)

    return Pending(steps, on_success=done, figures=figures)


def write_case_page(notebook: Path, target: Path, title: str, generated: bool, stamp: str, notice: str) -> Path:
    """In a child: a case's report rendered again from its executed notebook."""
    write_text(target, render_case(notebook, title, generated, stamp, notice=notice))
    return target


def render_reports(config: StudyConfig, wanted: list[str] | None = None, all_municipalities: bool = False, *,
                   only_missing: bool = False, stamp: str | None = None, runner: Runner | None = None,
                   chapter_pages: Pending | None = None, rendered: frozenset[str] = frozenset()) -> list[Path]:
    """Case reports, the overview, the index page, and (unless ``chapter_pages`` were queued already
    by :func:`submit_chapter_pages`) the overview's figures, the validation page and the workbook.

    ``only_missing``: a case report is rendered only when it is missing or older than its notebook;
    ``rendered``: the cases whose report the run's children wrote right after executing them, not
    rendered again. Every step runs side by side on the runner.
    """
    from pipeline.report.chapter import write_chapter_page
    from pipeline.report.overview import write_overview_page

    names, provenance = read_names(config.processed_dir), read_provenance(config.processed_dir)
    generated = is_generated(provenance)
    codes = select_cases(config, wanted, all_municipalities)
    stamp = stamp or timestamp()
    written = []
    reports = config.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    write_text(reports / "style.css", STYLESHEET.read_text(encoding="utf-8"))
    require_executed(config)
    entries = [index_entry(config, code, names) for code in executed_codes(config)]
    ran = [e["code"] for e in entries if e["href"] != "#"]
    own = runner is None
    runner = runner or case_runner()
    try:
        if chapter_pages is None:
            chapter_pages = submit_chapter_pages(config, runner, stamp, force=True, priority=0)
        steps = [runner.submit(write_index_page, str(config.path), entries, stamp),
                 runner.submit(write_chapter_page, str(config.path), stamp)]
        for entry in entries:
            notebook, target = output_path(config, entry["code"]), reports / f"{entry['code']}.html"
            current = ((only_missing or entry["code"] in rendered) and target.exists()
                       and target.stat().st_mtime_ns >= notebook.stat().st_mtime_ns)
            stale = entry["state"] == "stale"   # its inputs changed since it ran: the page must say so
            # a failed case keeps the failure page its run wrote
            if entry["href"] != "#" and entry["state"] != "failed" and entry["code"] in codes and (stale or not current):
                steps.append(runner.submit(write_case_page, notebook, target, f"Casus {entry['name']} — hoofdstuk 6",
                                           generated, stamp, stale_notice(entry) if stale else ""))
                written.append(target)
        runner.start()  # the pages above are drawn while the overview waits for its figures
        chapter_pages.wait_for_figures()
        steps.append(runner.submit(write_overview_page, str(config.path), ran,
                                   {e["code"]: e["error"] for e in entries if e["error"]}, stamp))
        for step in steps:
            step.result()  # the first error is raised here
        chapter_pages.wait()
    finally:
        if own:
            runner.close()
    written += [reports / "overzicht.html", reports / "index.html", reports / "hoofdstuk6.html"]
    print(f"wrote {len(written)} HTML files in {reports}", file=sys.stderr)
    return written


def write_reports(config: StudyConfig, args, runner: Runner, stamp: str, chapter_pages: Pending,
                  rendered: frozenset[str] = frozenset()) -> None:
    """Index page, overview (and any case report not rendered yet: ``rendered`` are the cases whose
    report this run wrote already), skipped when nothing they show changed; then wait for the chapter
    pages queued before the cases."""
    codes = [c.code for c in config.cases]
    if args.case or args.all_municipalities:
        codes = list(dict.fromkeys(codes + select_cases(config, args.case, args.all_municipalities)))
    # the index lists every executed case, also one run earlier with `run --case`: all are in its key
    codes = list(dict.fromkeys(codes + executed_codes(config)))
    lock = index_lock(config, codes)
    missing = [c for c in codes if output_path(config, c).exists() and not html_path(config, c).exists()]
    if not args.force and not missing and lock.stale_reason() is None:
        chapter_pages.wait()
        print(f"report: up to date ({config.reports_dir / 'index.html'})", file=sys.stderr)
        return
    render_reports(config, args.case, args.all_municipalities, only_missing=not args.force, stamp=stamp,
                   runner=runner, chapter_pages=chapter_pages, rendered=rendered)
    for code in codes:
        refresh_case_lock(config, code)  # a report rendered again from its current notebook is current
    index_lock(config, codes).record()


def run_steps(args, config: StudyConfig, started: float) -> int:
    """``build``, ``validate``, ``run``, ``report`` and ``all``: the steps each command takes, in order."""
    # processed data that no longer matches data/raw is not reported on; `run --force` preloads in any
    # case, so there the check (hashing the raw snapshot) runs beside the preload
    checked_beside = args.command == "run" and args.force
    if args.command in ("run", "report", "validate") and not checked_beside:
        require_current_build(config)
    if args.command == "build":
        build(config, force=args.force)
    if args.command == "validate":
        from pipeline.check.validate import validate_command
        return validate_command(config)
    if args.command == "build":
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return 0
    fresh = args.fresh_kernels
    timeout = DEFAULT_CELL_TIMEOUT if args.timeout is None else args.timeout
    runner = case_runner(args.jobs, fresh)
    stamp = timestamp()
    try:
        if checked_beside:
            # only what executing needs: the first cases start, then rendering is prepared (run_tasks)
            beside_preload(runner, require_current_build, config, stages=EXECUTION_STAGES)
        if args.command == "all":
            build_while_preloading(config, runner, force=args.force)
        failure = chapter_pages = validation = None
        results: list[RunResult] = []
        if args.command in ("report", "all"):
            if args.command == "report":
                require_executed(config)  # before any child starts
            # queued first, started only when no case notebook is waiting
            chapter_pages = submit_chapter_pages(config, runner, stamp, force=args.force, fresh=fresh)
        if args.command in ("run", "all"):
            try:
                results = run_cases(config, args.case, args.all_municipalities, fresh=fresh, force=args.force,
                                    runner=runner, stamp=stamp, timeout=timeout)
            except ExecutionError as exc:
                failure = exc  # the index still gets written, marking the failed cases
                results = exc.results
        if args.command == "all":
            from pipeline.check.summary import read_summary
            validation = read_summary(config)  # written by the build step
            if validation:
                print(f"validation: {validation['summary']}", file=sys.stderr)
        if chapter_pages is not None:
            rendered = frozenset(r.code for r in results if r.ok and not r.skipped and r.html)
            write_reports(config, args, runner, stamp, chapter_pages, rendered)
    finally:
        runner.close()
    print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if failure is not None:
        raise failure
    if validation and validation["error"]:
        from pipeline.check.validate import ValidationError
        raise ValidationError(validation["error"])
    return 0
