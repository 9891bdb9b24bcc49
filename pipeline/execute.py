"""Execute the case notebook once per case with papermill, and render each report right after.

Executed notebooks land in ``reports/notebooks/<code>.ipynb`` (papermill writes its parameters
cell, metadata and error cells there), reports in ``reports/<code>.html``.

* **One process per notebook, at the cost of none.** This process imports pandas, matplotlib,
  papermill, nbconvert and ``pipeline`` once (:func:`preload`), then forks a child per notebook
  (:class:`Runner`): the child inherits all of it, runs the notebook through papermill with the
  ``inprocess`` engine (:mod:`pipeline.engine`), renders its report, and exits. Every notebook thus
  starts from the same clean state, as in a new kernel, without a kernel to start, reset or restart.
  ``fresh=True`` (``--fresh-kernels``) runs papermill's plain engine (a new kernel) in the child.
* **Parallel.** ``jobs`` children at a time (default: the number of cores).
* **Steps by direct call.** The pages that need pandas (overview, validation, workbook, index, chapter)
  are functions run in a child the same way: ``runner.submit(write_index_page, ...)``.
* **Timeout per case.** The child raises ``TimeoutError`` in the running cell after ``timeout`` seconds
  (papermill records it as the cell's error); the parent kills a child that does not stop.
* **Incremental.** A case runs only when its content-hash key changed (:mod:`pipeline.cache`);
  ``force=True`` (``--force``) reruns all.
* **Failure isolation.** A case that fails does not stop the others; the failed notebook is kept,
  with papermill's error cell, and rendered; a summary names each failure with its cell and error.
* **Interruption.** A child dies with its parent (``PR_SET_PDEATHSIG``, also after ``kill -9``);
  Ctrl-C kills and reaps the children before the run lock is released.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import pickle
import select
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import ROOT, StudyConfig, load_config
from .errors import ExecutionError

NOTEBOOK = ROOT / "notebooks" / "hoofdstuk6_casus.ipynb"
VALIDATION_NOTEBOOK = ROOT / "notebooks" / "validatie.ipynb"
KERNEL_NAME = "jeugdzorg-h6"
# the kernel's own start-up warnings (TCP transport on loopback) are noise here (--fresh-kernels)
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
# A case takes about a second; one that hangs (a stuck read, a lock) fails after this long.
DEFAULT_CELL_TIMEOUT = 300.0
KILL_GRACE = 10.0  # seconds past its timeout before a child that ignores it is killed


@dataclass
class RunResult:
    code: str
    output: Path
    seconds: float
    error: str | None = None
    cell: str | None = None        # the failing cell: "cell 5: display(HTML(nb.lasten_html(session)))"
    html: Path | None = None
    skipped: bool = False          # up to date, not executed
    worker: str | None = None      # pid of the child process that ran it

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Task:
    """One notebook execution (and rendering)."""

    code: str
    config_path: str
    notebook: str                  # executed notebook to write
    output_dir: str                # the case's tables and figures
    html: str | None = None        # report to render right after execution (None: do not render)
    stamp: str = ""
    fresh: bool = False
    source: str = str(NOTEBOOK)
    title: str | None = None
    timeout: float | None = None   # seconds the case may take before it fails (None: no limit)

    @property
    def parameters(self) -> dict:
        return {"case": self.code, "config_path": self.config_path, "output_dir": self.output_dir}


def ensure_kernel() -> str:
    """Register this interpreter as a kernelspec inside its own prefix (idempotent): for
    ``--fresh-kernels``, the one path that starts kernels."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (jeugdzorg hoofdstuk 6)", prefix=sys.prefix)
    return KERNEL_NAME
def select_cases(config: StudyConfig, wanted: list[str] | None, all_municipalities: bool = False) -> list[str]:
    """The configured case codes, or ``wanted`` (codes or names), or every municipality."""
    codes = [c.code for c in config.cases]
    if not wanted and not all_municipalities:
        return codes
    if not all_municipalities and all(str(w).strip() in codes for w in wanted):
        return list(dict.fromkeys(str(w).strip() for w in wanted))  # plain codes: no need to read the snapshot
    from .selection import select_case_codes

    return select_case_codes(config, wanted, all_municipalities)


def output_path(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / "notebooks" / f"{code}.ipynb"


def html_path(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / f"{code}.html"


def case_dir(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / "cases" / code


def make_task(config: StudyConfig, code: str, stamp: str = "", fresh: bool = False, render: bool = True) -> Task:
    return Task(code=code, config_path=str(config.path), notebook=str(output_path(config, code)),
                output_dir=str(case_dir(config, code)), html=str(html_path(config, code)) if render else None,
                stamp=stamp, fresh=fresh, source=str(NOTEBOOK))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def timestamp() -> str:
    """The stamp on every page: now, or ``SOURCE_DATE_EPOCH`` when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")




# ---------------------------------------------------------------------------------------------
# In the child process


def preload() -> None:
    """Import once what every notebook and page needs, and pay the first-use costs (fonts, glyph caches,
    nbconvert's templates), so each forked child starts warm. No thread may be running at a fork."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import io

    import matplotlib
    import nbconvert  # noqa: F401
    import pandas  # noqa: F401
    import papermill  # noqa: F401
    from matplotlib.figure import Figure

    from . import chapter, exports, maps, notebook, overview, validation_report  # noqa: F401
    from .engine import register, shell
    from .figures import warm_up as warm_up_figures
    from .render import warm_up

    register()
    maps.preload()
    shell()  # the IPython shell each child runs its cells in: a pristine copy in every child
    warm_up()
    warm_up_figures()  # the fonts, hatches and writers the case figures and maps use
    figure = Figure(figsize=(1, 1))
    figure.subplots().set_title("warm")
    for fmt in ("png", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)
    matplotlib.rcdefaults()
    import gc

    gc.freeze()  # what the children inherit stays out of their collections: fewer pages copied on write


def _title_and_generated(task: Task) -> tuple[str, bool]:
    """Report title (the municipality's name) and whether the snapshot is generated."""
    from .provenance import is_generated, read_names, read_provenance

    config = load_config(task.config_path)
    name = read_names(config.processed_dir).get(task.code, task.code)
    return task.title or f"Casus {name} — hoofdstuk 6", is_generated(read_provenance(config.processed_dir))


def _raise_timeout(seconds: float):
    def handler(signum, frame):
        raise TimeoutError(f"the case timed out after {seconds:g} s (--timeout)")
    return handler


def run_task(task: Task) -> RunResult:
    """Execute one notebook through papermill (in this process, or a fresh kernel), then render it."""
    import papermill as pm

    output = Path(task.notebook)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = RunResult(task.code, output, 0.0, worker=str(os.getpid()))
    # what the last run left (notebook, report, tables and figures, also those of an earlier config) is
    # not kept alongside the new run: a case that fails early must not leave the old report as if current
    clear_case_outputs(task)
    if task.timeout:
        previous = signal.signal(signal.SIGALRM, _raise_timeout(task.timeout))
        signal.setitimer(signal.ITIMER_REAL, task.timeout)
    try:
        if not task.fresh:
            from .engine import register
            register()
        pm.execute_notebook(task.source, str(output), kernel_name=KERNEL_NAME, progress_bar=False,
                            parameters=task.parameters, cwd=str(ROOT),
                            engine_name=None if task.fresh else "inprocess",
                            extra_arguments=list(KERNEL_ARGUMENTS), request_save_on_cell_execute=False,
                            # nbclient's (per cell) timeout is a whole number of seconds: 2.5 waits 3
                            execution_timeout=None if task.timeout is None else math.ceil(task.timeout))
    except pm.PapermillExecutionError as exc:
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        result.error = f"{exc.ename}: {exc.evalue}"
        result.cell = f"cell {exc.exec_count}: {first_line.strip()}"
    except Exception as exc:  # noqa: BLE001 - a kernel that died, a missing file: this case fails, not the run
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if task.timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if task.html:
        try:
            write_report(task, result)
        except Exception as exc:  # noqa: BLE001
            result.error = result.error or f"rendering failed: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def write_report(task: Task, result: RunResult) -> None:
    """The case's report page; a failed case's page says it failed, whatever the notebook shows."""
    from .iorw import write_text
    from .render import page, render_case

    title, generated = _title_and_generated(task)
    output = Path(task.notebook)
    text = render_case(output, title, generated, task.stamp) if output.exists() else page(title, "", generated, task.stamp)
    if result.error:
        text = text.replace("<main>\n", "<main>\n" + failure_notice(result), 1)
    write_text(Path(task.html), text)
    result.html = Path(task.html)


def clear_case_outputs(task: Task) -> None:
    """Remove a case's executed notebook, report and output folder files before it runs again."""
    for path in (Path(task.notebook), Path(task.html) if task.html else None):
        if path is not None:
            path.unlink(missing_ok=True)
    folder = Path(task.output_dir)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)


def failure_notice(result: RunResult) -> str:
    import html

    where = f" in {result.cell}" if result.cell else ""
    return (f'<p class="failed" role="alert"><strong>Deze casus is mislukt bij de laatste run</strong>{html.escape(where)}: '
            f"{html.escape(result.error or '')}. De cijfers hieronder zijn onvolledig of ontbreken; "
            "los de fout op en draai <code>python -m pipeline run</code> opnieuw.</p>\n")


def render_validation_page(config_path: str, stamp: str, fresh: bool = False) -> Path:
    """Execute ``notebooks/validatie.ipynb`` with papermill and render ``reports/validation.html``."""
    import papermill as pm

    from .engine import register
    from .iorw import write_text
    from .provenance import is_generated, read_provenance
    from .render import render_case

    register()
    config = load_config(config_path)
    executed = config.reports_dir / "notebooks" / "validatie.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(VALIDATION_NOTEBOOK), str(executed), kernel_name=KERNEL_NAME, progress_bar=False,
                        parameters={"config_path": str(config.path)}, extra_arguments=list(KERNEL_ARGUMENTS),
                        request_save_on_cell_execute=False, cwd=str(ROOT),
                        engine_name=None if fresh else "inprocess")
    generated = is_generated(read_provenance(config.processed_dir))
    target = config.reports_dir / "validation.html"
    write_text(target, render_case(executed, "Validatie hoofdstuk 6", generated, stamp))
    return target


def _child(fn, args, out: int, parent: int) -> None:
    """In the forked child: run ``fn(*args)``, send ``("ok", result)`` or ``("error", exc)``, exit."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the parent, also after kill -9
    if os.getppid() != parent:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the children
    try:
        payload = pickle.dumps(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        try:
            payload = pickle.dumps(("error", exc))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled travels as its text
            payload = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    try:
        with os.fdopen(out, "wb") as pipe:
            pipe.write(payload)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


# ---------------------------------------------------------------------------------------------
# In the parent process


class WorkerError(RuntimeError):
    """A child process that died or was killed before it reported a result."""


class Job:
    """``fn(*args)`` in a forked child; :meth:`result` waits for it (running the runner meanwhile)."""

    def __init__(self, runner: "Runner", fn, args: tuple, deadline: float | None):
        self.runner, self.fn, self.args, self.deadline = runner, fn, args, deadline
        self.pid = self.fd = None
        self.data = bytearray()
        self.state, self.value, self.callback = "queued", None, None

    def done(self) -> bool:
        return self.state in ("done", "cancelled")

    def cancelled(self) -> bool:
        return self.state == "cancelled"

    def result(self, timeout: float | None = None):
        self.runner.wait([self], timeout)
        if self.state == "cancelled":
            raise WorkerError("cancelled")
        if self.state != "done":
            raise TimeoutError(f"{self.fn.__name__} did not finish within {timeout} s")
        status, value = self.value
        if status == "error":
            raise value
        return value

    def finish(self, value: tuple) -> None:
        self.state, self.value = "done", value
        if self.callback is not None:
            self.callback(self)


class Runner:
    """Runs jobs in forked children of this (preloaded) process, ``jobs`` at a time.

    Work is queued by :meth:`submit` and started when someone waits (:meth:`wait`, :meth:`map`,
    ``Job.result``), lowest ``priority`` first: pages queued early with a higher priority fill the
    slots that no case notebook needs.
    """

    def __init__(self, jobs: int | None = None, fresh: bool = False,
                 timeout: float | None = DEFAULT_CELL_TIMEOUT):
        self.jobs = jobs or default_jobs()
        self.fresh = fresh
        if fresh:   # papermill's plain engine starts a kernel: register this interpreter's kernelspec once, here
            ensure_kernel()
        self.timeout = timeout
        self.queue: list = []
        self.order = itertools.count()
        self.running: dict[int, Job] = {}   # by pipe fd
        self.preloaded = False

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, fn, *args, priority: int = 0, timeout: float | None = None) -> Job:
        """Queue ``fn(*args)`` for a child; ``timeout``: kill the child after that many seconds."""
        job = Job(self, fn, args, timeout)
        heapq.heappush(self.queue, (priority, next(self.order), job))
        return job

    def map(self, tasks: list[Task], progress=None) -> list[RunResult]:
        """Run ``tasks``, each in a child; results in their order; ``progress(result)`` as each finishes."""
        def finished(job: Job) -> None:
            task = job.args[0]
            status, value = job.value
            if status == "error":  # the child died or was killed: the case fails, not the run
                value = RunResult(task.code, Path(task.notebook), 0.0, error=f"worker failed: {value}")
                if task.html:
                    try:
                        write_report(task, value)
                    except Exception:  # noqa: BLE001 - the error is already in the result
                        pass
            job.value = ("ok", value)
            if progress:
                progress(value)

        jobs = []
        for task in tasks:
            task.fresh, task.timeout = self.fresh, self.timeout
            job = self.submit(run_task, task, timeout=None if self.timeout is None else self.timeout + KILL_GRACE)
            job.callback = finished
            jobs.append(job)
        self.wait(jobs)
        return [job.result() for job in jobs]

    def wait(self, jobs: list[Job], timeout: float | None = None) -> None:
        """Run the queue until every job of ``jobs`` is done (or ``timeout`` seconds passed)."""
        until = None if timeout is None else time.monotonic() + timeout
        while not all(job.done() for job in jobs):
            while self.queue and len(self.running) < self.jobs:
                self._start(heapq.heappop(self.queue)[2])
            if not self.running:
                break
            now = time.monotonic()
            limits = [j.deadline for j in self.running.values() if j.deadline] + ([until] if until else [])
            ready, _, _ = select.select(list(self.running), [], [], max(0.0, min(limits) - now) if limits else None)
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                if chunk:
                    self.running[fd].data += chunk
                else:
                    self._reap(self.running.pop(fd))
            now = time.monotonic()
            for fd, job in list(self.running.items()):
                if job.deadline and now >= job.deadline:
                    self._kill(self.running.pop(fd))
                    job.finish(("error", WorkerError(f"timed out: killed after {job.seconds:g} s")))
            if until is not None and now >= until:
                break

    def _start(self, job: Job) -> None:
        if not self.preloaded:
            preload()
            self.preloaded = True
        read, write = os.pipe()
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _child(job.fn, job.args, write, parent)
        os.close(write)
        job.pid, job.fd, job.state = pid, read, "running"
        if job.deadline:
            job.seconds, job.deadline = job.deadline, time.monotonic() + job.deadline
        self.running[read] = job

    def _reap(self, job: Job) -> None:
        os.close(job.fd)
        _, status = os.waitpid(job.pid, 0)
        try:
            value = pickle.loads(bytes(job.data))
        except Exception:  # noqa: BLE001 - nothing or half a result: the child died
            how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit code {os.waitstatus_to_exitcode(status)}")
            value = ("error", WorkerError(f"the worker process died ({how})"))
        job.finish(value)

    def _kill(self, job: Job) -> None:
        try:
            os.kill(job.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(job.pid, 0)
        os.close(job.fd)

    def close(self) -> None:
        """Cancel what is queued and kill what runs (after Ctrl-C or an error nobody waits for it);
        after a normal run nothing is left to do."""
        for _, _, job in self.queue:
            job.state = "cancelled"
        self.queue.clear()
        for job in self.running.values():
            self._kill(job)
            job.state = "cancelled"
        self.running.clear()


def _case_lock(config: StudyConfig, task: Task):
    from .cache import case_lock, case_outputs

    outputs = [Path(task.notebook), *case_outputs(Path(task.output_dir))]
    if task.html:
        outputs.append(Path(task.html))
    return case_lock(config, task.code, Path(task.source), task.parameters, outputs)


def refresh_case_lock(config: StudyConfig, code: str) -> None:
    """After the report step rendered a case's HTML again from its notebook: record the new HTML in the
    case's lock, when everything else in it (dependencies, notebook, tables, figures) is as recorded."""
    from .cache import file_hash

    task = make_task(config, code)
    lock = _case_lock(config, task)
    old = lock.recorded()
    if not old or old.get("failed") or old.get("key") != lock.key or not Path(task.html).exists():
        return
    html = os.path.relpath(task.html, lock.path.parent)
    outputs = old.get("outputs") or {}
    if html in outputs and outputs[html] == file_hash(Path(task.html)):
        return
    if all(file_hash(lock.path.parent / name) == digest for name, digest in outputs.items() if name != html):
        lock.record({k: v for k, v in old.items() if k == "seconds"})


def case_state(config: StudyConfig, code: str) -> tuple[str, str | None]:
    """What the index says about a case: ``("ok", None)``, ``("failed", error)``, ``("stale", what changed)``
    (inputs or outputs changed since it ran) or ``("missing", None)`` (never run)."""
    lock = _case_lock(config, make_task(config, code))
    recorded = lock.recorded()
    if recorded is None:
        return ("missing", None) if not output_path(config, code).exists() else ("stale", "no record of its run")
    if recorded.get("failed"):
        return "failed", recorded["failed"]
    reason = lock.stale_reason()
    return ("ok", None) if reason is None else ("stale", reason)


def run_cases(config: StudyConfig, wanted: list[str] | None = None, all_municipalities: bool = False, *,
              jobs: int | None = None, fresh: bool = False, force: bool = False, runner: Runner | None = None,
              stamp: str | None = None) -> list[RunResult]:
    """Execute (and render) every selected case whose inputs changed; raise ExecutionError if any failed."""
    codes = select_cases(config, wanted, all_municipalities)
    stamp = stamp or timestamp()
    tasks = [make_task(config, code, stamp) for code in codes]
    results: dict[str, RunResult] = {}
    todo = []
    for task in tasks:
        reason = None if force else _case_lock(config, task).stale_reason()
        if force or reason:
            todo.append(task)
        else:
            results[task.code] = RunResult(task.code, Path(task.notebook), 0.0, html=Path(task.html), skipped=True)
    up_to_date = len(tasks) - len(todo)
    if todo:
        done = [0]
        by_code = {task.code: task for task in todo}

        def progress(result: RunResult) -> None:
            # the lock is written as each case finishes: an interrupted run keeps the cases it finished
            lock = _case_lock(config, by_code[result.code])
            if result.ok:
                lock.record({"seconds": round(result.seconds, 3)})
            else:
                lock.record_failure(result.error + (f" ({result.cell})" if result.cell else ""))
            done[0] += 1
            state = "ok" if result.ok else "FAILED"
            print(f"[{done[0]}/{len(todo)}] {result.code} {state} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)

        own = runner is None
        runner = runner or Runner(jobs, fresh)
        try:
            for task, result in zip(todo, runner.map(todo, progress)):
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
