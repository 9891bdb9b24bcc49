"""Execute a notebook with papermill: the case notebook once per case, and the validation notebook.

Executed notebooks land in ``reports/notebooks/<code>.ipynb`` (papermill writes its parameters cell,
metadata and error cells there). The cells run in this process through the ``inprocess`` engine
(:mod:`pipeline.run.engine`), or with ``fresh=True`` (``--fresh-kernels``) in a new kernel of
papermill's plain engine. The workflow (:mod:`pipeline.workflow`) runs each in a forked child
(:mod:`pipeline.run.runner`), so every notebook starts from the same clean state.

* **Timeout per case.** ``Task.timeout``: the cell running after that many seconds raises
  ``TimeoutError`` (papermill records it as the cell's error).
* **Failure isolation.** An error becomes the result's ``error`` and ``cell``, never an exception:
  the notebook is kept, with papermill's error cell.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.config import ROOT, StudyConfig

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
    cell: str | None = None        # the failing cell: "cell 5: display(HTML(nb.tabel1_html(session)))"
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
        # the path itself, not where its symlinks lead: every venv's python links to the same base interpreter,
        # so a venv copied or moved from another checkout would keep running that checkout's kernel
        if spec.argv and os.path.abspath(spec.argv[0]) == os.path.abspath(sys.executable):
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (jeugdzorg hoofdstuk 6)", prefix=sys.prefix)
    return KERNEL_NAME


def output_path(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / "notebooks" / f"{code}.ipynb"


def html_path(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / f"{code}.html"


def case_dir(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / "cases" / code


def make_task(config: StudyConfig, code: str, stamp: str = "", fresh: bool = False, render: bool = True,
              timeout: float | None = None) -> Task:
    return Task(code=code, config_path=str(config.path), notebook=str(output_path(config, code)),
                output_dir=str(case_dir(config, code)), html=str(html_path(config, code)) if render else None,
                stamp=stamp, fresh=fresh, source=str(NOTEBOOK), timeout=timeout)


def timestamp() -> str:
    """The stamp on every page: now, or ``SOURCE_DATE_EPOCH`` when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")




# ---------------------------------------------------------------------------------------------
# In the child process


def _raise_timeout(seconds: float):
    def handler(signum, frame):
        raise TimeoutError(f"the case timed out after {seconds:g} s (--timeout)")
    return handler


def run_task(task: Task) -> RunResult:
    """Execute one notebook through papermill (in this process, or a fresh kernel); its error, if any, in the result."""
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
            from pipeline.run.engine import register
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


def run_validation_notebook(config: StudyConfig, fresh: bool = False) -> Path:
    """Execute ``notebooks/validatie.ipynb`` with papermill into ``reports/notebooks/validatie.ipynb``."""
    import papermill as pm

    from pipeline.run.engine import register

    register()
    executed = config.reports_dir / "notebooks" / "validatie.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(VALIDATION_NOTEBOOK), str(executed), kernel_name=KERNEL_NAME, progress_bar=False,
                        parameters={"config_path": str(config.path)}, extra_arguments=list(KERNEL_ARGUMENTS),
                        request_save_on_cell_execute=False, cwd=str(ROOT),
                        engine_name=None if fresh else "inprocess")
    return executed
