"""Execute the case notebook once per case with papermill, and render each report right after.

Executed notebooks land in ``reports/notebooks/<code>.ipynb`` (papermill writes its parameters
cell and metadata there), reports in ``reports/<code>.html``. The kernel runs this environment's
Python, registered once as its own kernelspec so no other Jupyter installation can be picked up.

* **Warm kernels.** By default papermill runs each notebook with the ``warm`` engine
  (:mod:`pipeline.engine`): one kernel per worker, pandas and matplotlib already imported, reset
  between notebooks. ``fresh=True`` (``--fresh-kernels``) uses papermill's plain engine: a new
  kernel per notebook.
* **Parallel.** ``jobs`` kernels (default: the number of cores), each driven by a thread of this
  process (:class:`KernelThreads`), or with more than ``MAX_THREADS`` jobs by a ``spawn``ed worker
  process each. A worker starts its kernel first and imports papermill and nbconvert and warms the
  exporter while the kernel starts, then executes and renders the notebooks it is handed.
* **Kernel calls.** Report steps that need pandas and matplotlib run inside a warm kernel, which has
  both imported already (:func:`call_in_kernel`, ``Runner.submit_call``).
* **Incremental.** A case runs only when its content-hash key changed (:mod:`pipeline.cache`);
  ``force=True`` (``--force``) reruns all.
* **Failure isolation.** A case that fails does not stop the others; the failed notebook is kept,
  with papermill's error cell, and rendered; a summary names each failure with its cell and error.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import queue
import sys
import threading
import time
from concurrent.futures import Future, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import ROOT, StudyConfig, load_config
from .errors import ExecutionError

NOTEBOOK = ROOT / "notebooks" / "hoofdstuk6_casus.ipynb"
VALIDATION_NOTEBOOK = ROOT / "notebooks" / "validatie.ipynb"
KERNEL_NAME = "jeugdzorg-h6"
# the kernel's own start-up warnings (TCP transport on loopback) are noise here
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


@dataclass
class RunResult:
    code: str
    output: Path
    seconds: float
    error: str | None = None
    cell: str | None = None        # the failing cell: "cell 5: display(HTML(nb.lasten_html(session)))"
    html: Path | None = None
    skipped: bool = False          # up to date, not executed
    worker: str | None = None      # "<pid>/<thread>" of the worker that ran it

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Task:
    """One notebook execution (and rendering): everything a worker process needs, picklable."""

    code: str
    config_path: str
    notebook: str                  # executed notebook to write
    output_dir: str                # the case's tables and figures
    html: str | None = None        # report to render right after execution (None: do not render)
    stamp: str = ""
    fresh: bool = False
    source: str = str(NOTEBOOK)
    title: str | None = None
    timeout: float | None = None   # seconds a cell may run before the case fails (None: no limit)

    @property
    def parameters(self) -> dict:
        return {"case": self.code, "config_path": self.config_path, "output_dir": self.output_dir}


def ensure_kernel() -> str:
    """Register this interpreter as a kernelspec inside its own prefix (idempotent)."""
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
# In the worker


_LOCAL = threading.local()  # per worker thread (or process): the names and flags of the snapshot


def _worker_state() -> dict:
    state = getattr(_LOCAL, "state", None)
    if state is None:
        state = _LOCAL.state = {}
    return state


def _worker_init(kernel_name: str, warm: bool) -> None:
    """Start the kernel first (it imports pandas and matplotlib meanwhile), then import the rest."""
    if warm:
        from .engine import pool

        pool().launch(kernel_name, KERNEL_ARGUMENTS, str(ROOT))
    import papermill  # noqa: F401 - imported here, while the kernel starts
    from .render import warm_up

    warm_up()  # a second thread waits for the first one's template compilation, then is quick


def _title_and_generated(task: Task) -> tuple[str, bool]:
    """Report title (the municipality's name) and whether the snapshot is generated, per config.

    Read with the csv and json modules: a worker that only executes and renders notebooks never
    imports pandas itself (its kernel has it), which keeps worker start-up short.
    """
    from .provenance import is_generated, read_names, read_provenance

    state = _worker_state()
    if state.get("config_path") != task.config_path:
        config = load_config(task.config_path)
        state["names"] = read_names(config.processed_dir)
        state["generated"] = is_generated(read_provenance(config.processed_dir))
        state["config_path"] = task.config_path
    name = state["names"].get(task.code, task.code)
    return task.title or f"Casus {name} — hoofdstuk 6", state["generated"]


def engine_options(fresh: bool) -> dict:
    """papermill arguments choosing the engine, and how the kernel gets ROOT as working directory."""
    if fresh:
        return {"engine_name": None, "cwd": str(ROOT)}  # plain papermill: it chdirs around the run
    # the warm engine sets the kernel's directory itself; papermill's cwd= would chdir this whole
    # process, which threads running notebooks side by side must not do
    return {"engine_name": "warm", "kernel_cwd": str(ROOT)}


def run_task(task: Task, kernel: str = KERNEL_NAME) -> RunResult:
    """Execute one notebook through papermill (warm or fresh engine), then render it."""
    import papermill as pm

    if not task.fresh:
        from .engine import register

        register()  # also without the entry point (an environment installed before it existed)

    output = Path(task.notebook)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = RunResult(task.code, output, 0.0, worker=f"{os.getpid()}/{threading.current_thread().name}")
    # what the last run left (notebook, report, tables and figures, also those of an earlier config) is
    # not kept alongside the new run: a case that fails early must not leave the old report as if current
    clear_case_outputs(task)
    try:
        pm.execute_notebook(task.source, str(output), kernel_name=kernel, progress_bar=False,
                            parameters=task.parameters, extra_arguments=list(KERNEL_ARGUMENTS),
                            # one write at the end (and on error) instead of one per cell
                            request_save_on_cell_execute=task.fresh,
                            # nbclient's timeout is a whole number of seconds: 2.5 waits 3
                            execution_timeout=None if task.timeout is None else math.ceil(task.timeout),
                            **engine_options(task.fresh))
    except pm.PapermillExecutionError as exc:
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        result.error = f"{exc.ename}: {exc.evalue}"
        result.cell = f"cell {exc.exec_count}: {first_line.strip()}"
    except Exception as exc:  # noqa: BLE001 - a kernel that died, a missing file: this case fails, not the run
        result.error = f"{type(exc).__name__}: {exc}"
    if task.html:
        try:
            from .iorw import write_text
            from .render import render_case

            title, generated = _title_and_generated(task)
            if output.exists():
                text = render_case(output, title, generated, task.stamp)
            else:
                from .render import page
                text = page(title, "", generated, task.stamp)
            if result.error:  # the report says it failed, whatever the notebook shows
                text = text.replace("<main>\n", "<main>\n" + failure_notice(result), 1)
            write_text(Path(task.html), text)
            result.html = Path(task.html)
        except Exception as exc:  # noqa: BLE001
            result.error = result.error or f"rendering failed: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


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


def _call_in_worker(fn_name: str, *args):
    """Run a function of this module in a worker (a thread or process with a warm kernel)."""
    return globals()[fn_name](*args)


def call_function(target: str, *args):
    """Import ``package.module:function`` and call it with ``args``, here."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(*args)


def call_in_kernel(target: str, args_json: str, kernel: str = KERNEL_NAME) -> None:
    """Call ``package.module:function(*args)`` inside this worker's warm kernel, then reset the kernel.

    For the report steps that need pandas and matplotlib (the overview page, the workbook): the kernel
    has both imported already, so this process never has to. Arguments travel as JSON; the function
    writes its files itself. An error in it is raised here as WarmKernelError with its message.
    """
    from .engine import pool, register

    register()
    module, name = target.split(":")
    code = f"import importlib as _i, json as _j\n_i.import_module({module!r}).{name}(*_j.loads({args_json!r}))"
    kernels = pool()
    warm = kernels.acquire(kernel, list(KERNEL_ARGUMENTS), str(ROOT))
    failed = True
    try:
        warm.run(code)
        failed = False
    finally:
        kernels.release(warm, failed, str(ROOT))


def render_validation_page(config_path: str, stamp: str, fresh: bool = False, kernel: str = KERNEL_NAME) -> Path:
    """Execute ``notebooks/validatie.ipynb`` with papermill (on this worker's warm kernel) and render
    ``reports/validation.html`` like the case reports."""
    import papermill as pm

    from .iorw import write_text
    from .provenance import is_generated, read_provenance
    from .render import render_case

    if not fresh:
        from .engine import register

        register()
    config = load_config(config_path)
    executed = config.reports_dir / "notebooks" / "validatie.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(VALIDATION_NOTEBOOK), str(executed), kernel_name=kernel, progress_bar=False,
                        parameters={"config_path": str(config.path)}, extra_arguments=list(KERNEL_ARGUMENTS),
                        request_save_on_cell_execute=fresh, **engine_options(fresh))
    generated = is_generated(read_provenance(config.processed_dir))
    target = config.reports_dir / "validation.html"
    write_text(target, render_case(executed, "Validatie hoofdstuk 6", generated, stamp))
    return target


# ---------------------------------------------------------------------------------------------
# In the main process


class KernelThreads:
    """``n`` threads of this process, each driving its own warm kernel: the parallel work runs in the
    kernel processes, and no worker process has to start and import papermill and nbconvert first.

    Each thread starts its kernel before anything else (the kernel imports pandas and matplotlib while
    this process imports papermill and nbconvert), then takes the next item from one shared queue,
    so a thread that finishes early takes more. A kernel's client lives on its thread's event loop,
    so a kernel is only ever used, and finally shut down, by the thread that started it.
    """

    def __init__(self, n: int, kernel: str):
        self.items: queue.PriorityQueue = queue.PriorityQueue()
        self.order = itertools.count()  # FIFO within one priority
        self.threads = [threading.Thread(target=self._serve, args=(kernel,), name=f"kernel-{i + 1}", daemon=True)
                        for i in range(n)]
        for thread in self.threads:
            thread.start()

    def _serve(self, kernel: str) -> None:
        from .engine import pool

        try:
            _worker_init(kernel, warm=True)
        except Exception as exc:  # noqa: BLE001 - the first task reports it (acquire retries the start)
            print(f"warning: {threading.current_thread().name}: {exc}", file=sys.stderr)
        try:
            while (item := self.items.get()[2]) is not None:
                fn, args, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller with the future
                    future.set_exception(exc)
        finally:
            pool().shutdown()

    def submit(self, fn, *args, priority: int = 0) -> Future:
        """Queue ``fn(*args)``; a free thread takes the lowest ``priority`` first."""
        future: Future = Future()
        self.items.put((priority, next(self.order), (fn, args, future)))
        return future

    def shutdown(self) -> None:
        """Cancel what is still queued (after Ctrl-C or an error, nobody waits for it), let each thread
        finish its current item, shut its kernel down and end."""
        while True:
            try:
                item = self.items.get_nowait()[2]
            except queue.Empty:
                break
            if item is not None:
                item[2].cancel()
        for _ in self.threads:
            self.items.put((math.inf, next(self.order), None))
        for thread in self.threads:
            thread.join()


# A cell of the case notebook takes well under a second; one that hangs (a kernel waiting on a lock,
# a stuck read) fails its case after this long instead of holding a worker forever.
DEFAULT_CELL_TIMEOUT = 300.0

# Beyond this many kernels, each is driven from its own worker process: the notebook client and the
# HTML rendering (~0.1 s of Python per notebook) would otherwise queue for this process's GIL.
MAX_THREADS = 4


class Runner:
    """Runs tasks on ``jobs`` kernels in parallel.

    Warm kernels are driven by threads of this process (:class:`KernelThreads`); with more than
    ``MAX_THREADS`` jobs, or ``processes=True``, by worker processes started with ``spawn``, each
    with its own warm kernel. Fresh kernels (plain papermill, which chdirs the process around each
    notebook) run in worker processes, or here when ``jobs`` is 1.
    """

    def __init__(self, jobs: int | None = None, fresh: bool = False, kernel: str | None = None,
                 processes: bool | None = None, timeout: float | None = DEFAULT_CELL_TIMEOUT):
        self.jobs = jobs or default_jobs()
        self.fresh = fresh
        self.timeout = timeout
        self.processes = self.jobs > MAX_THREADS if processes is None else processes
        self._kernel = kernel
        self.executor = None
        self.workers = 1

    @property
    def kernel(self) -> str:
        if self._kernel is None:
            self._kernel = ensure_kernel()
        return self._kernel

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def mode(self) -> str:
        if self.executor is None:
            return "this process"
        return "threads" if isinstance(self.executor, KernelThreads) else "processes"

    def start(self, n_tasks: int) -> None:
        """Start the workers (and their kernels) for ``n_tasks`` tasks, if not started yet."""
        if self.executor is not None:
            return
        workers = min(self.jobs, max(n_tasks, 1))
        if not self.fresh and not self.processes:
            self.executor = KernelThreads(workers, self.kernel)
        elif workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_worker_init, initargs=(self.kernel, not self.fresh))
        else:
            return
        self.workers = workers

    def map(self, tasks: list[Task], progress=None) -> list[RunResult]:
        """Run ``tasks``; results in the order of ``tasks``. ``progress(result)`` as each finishes."""
        for task in tasks:
            task.fresh, task.timeout = self.fresh, self.timeout
        self.start(len(tasks))
        if self.executor is None:
            results = []
            for task in tasks:
                results.append(run_task(task, self.kernel))
                if progress:
                    progress(results[-1])
            return results
        futures = {self.executor.submit(run_task, task, self.kernel): i for i, task in enumerate(tasks)}
        results: list[RunResult | None] = [None] * len(tasks)
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died takes one case with it, not the run
                results[i] = RunResult(tasks[i].code, Path(tasks[i].notebook), 0.0,
                                       error=f"worker failed: {type(exc).__name__}: {exc}")
            if progress:
                progress(results[i])
        return results  # type: ignore[return-value]

    def submit(self, fn_name: str, *args, priority: int = 0) -> Future:
        """Run a module-level function of this module on a worker (with its warm kernel) if there is one,
        else here; its result or error comes with the future. Threads take work with a lower ``priority``
        first (so work queued early with a higher one fills the time a kernel would idle); worker
        processes take it in order."""
        if not self.fresh:
            self.start(self.jobs)
        if isinstance(self.executor, KernelThreads):
            return self.executor.submit(_call_in_worker, fn_name, *args, priority=priority)
        if self.executor is not None:
            return self.executor.submit(_call_in_worker, fn_name, *args)
        future: Future = Future()
        try:
            future.set_result(globals()[fn_name](*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller with the future
            future.set_exception(exc)
        return future

    def submit_call(self, target: str, *args, priority: int = 0) -> Future:
        """``package.module:function(*args)`` in a warm kernel (:func:`call_in_kernel`), where pandas and
        matplotlib are imported already; here when the kernels are fresh ones."""
        if self.fresh:
            return self.submit("call_function", target, *args)
        return self.submit("call_in_kernel", target, json.dumps(args), self.kernel, priority=priority)

    def close(self) -> None:
        if self.executor is not None:
            if isinstance(self.executor, KernelThreads):
                self.executor.shutdown()
            else:
                self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


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
