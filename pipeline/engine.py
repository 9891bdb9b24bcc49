"""A papermill engine that executes notebooks in a warm, reused kernel: ``engine_name="warm"``.

Starting a Python kernel and importing pandas and matplotlib costs ~1-2 s; executing the case
notebook in a kernel that already has them costs ~0.3 s. This engine keeps one kernel per thread (per
kernel name) and hands it to papermill's own :class:`~papermill.clientwrap.PapermillNotebookClient`,
so papermill still injects parameters, records its metadata and error cells exactly as with the
default ``nbclient`` engine: only *where* the cells run changes.

Between notebooks the kernel is brought back to the state of a fresh one:

* ``%reset -f`` (``InteractiveShell.reset(new_session=True)``): user namespace, ``In``/``Out``, output
  cache cleared, a new history session, the execution counter back at 1;
* every ``pipeline`` module is dropped from ``sys.modules`` and re-imported, so no module-level
  state in the package can leak from one case to the next (and edited source is picked up);
* matplotlib rcParams, pandas options, warning filters, environment and working directory are
  restored to what they were right after start-up, open pyplot figures are closed;

The kernel is restarted after ``max_uses`` notebooks (``PIPELINE_WARM_MAX_USES``, default 20) and
after any notebook that fails or any reset that fails, so one bad case cannot poison the next.
Starting a kernel is retried when it fails, e.g. when another process grabbed one of the ZMQ ports
jupyter_client picked (parallel workers race for ports between choosing and binding them).

Registered with papermill's engine registry through the ``papermill.engine`` entry point (see
pyproject.toml) and, as a fallback for an environment installed before that entry point existed, by
:func:`register`.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field

# papermill is imported lazily: papermill loads this module from its entry point while it is being
# imported itself, so nothing here may need papermill at import time
logger = logging.getLogger("papermill")

ENGINE_NAME = "warm"
DEFAULT_MAX_USES = int(os.environ.get("PIPELINE_WARM_MAX_USES", "20"))
START_ATTEMPTS = 4

# Run once when a kernel starts (IPKernelApp.exec_lines): the expensive imports, and a snapshot of the state a reset returns to.
PRELUDE = """
def __h6_prelude():
    import copy, os, sys, types, warnings
    import matplotlib
    import matplotlib.pyplot
    import pandas
    import IPython.display
    import pipeline.notebook  # warms the imports pipeline needs; the reset re-imports it from source
    import io
    from matplotlib.figure import Figure
    figure = Figure(figsize=(1, 1))  # first text rendering loads fonts and glyph caches: do it now, once
    figure.subplots().set_title("warm")
    for fmt in ("png", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)
    state = types.ModuleType("_h6_warm_state")
    state.rc = copy.deepcopy(dict(matplotlib.rcParams))
    state.filters = list(warnings.filters)
    state.environ = dict(os.environ)
    state.modules = set(sys.modules)
    sys.modules["_h6_warm_state"] = state
__h6_prelude()
del __h6_prelude
# everything imported so far lives as long as the kernel: keep it out of the garbage collector's
# full collections (the reset's gc.collect() costs ~3 ms instead of ~45 ms)
__import__("gc").freeze()
"""

# Run before every notebook (silently, without history): back to the state of a fresh kernel.
RESET = """
def __h6_reset(cwd):
    import os, sys, warnings
    import matplotlib, matplotlib.pyplot, pandas
    ip = get_ipython()
    ip.reset(new_session=True)  # %reset -f, plus a new history session with the counter back at 1
    state = sys.modules["_h6_warm_state"]
    for name in [n for n in sys.modules if n == "pipeline" or n.startswith("pipeline.")]:
        del sys.modules[name]
    matplotlib.pyplot.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.clear()
        matplotlib.rcParams.update(state.rc)
        pandas.reset_option("all")
    warnings.filters[:] = state.filters
    warnings._filters_mutated()
    os.environ.clear()
    os.environ.update(state.environ)
    os.chdir(cwd)
    import pipeline.notebook  # re-imported from source: nothing of the previous case survives
__h6_reset({cwd!r})  # the reset also removed __h6_reset itself from the namespace
"""


class WarmKernelError(RuntimeError):
    """The warm kernel could not be started or reset."""


async def _await_reply(kc, msg_id: str, timeout: float, km=None) -> dict:
    """Wait for the shell reply to ``msg_id`` (a silent execution) and raise if it failed; with ``km``,
    also raise as soon as the kernel process has died instead of waiting out the timeout."""
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WarmKernelError(f"kernel did not answer within {timeout:.0f} s")
        try:
            reply = await kc.get_shell_msg(timeout=min(remaining, 1.0))
        except Empty:
            if km is not None and not await km.is_alive():
                raise WarmKernelError("kernel died while starting") from None
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    content = reply["content"]
    if content.get("status") != "ok":
        raise WarmKernelError(f"{content.get('ename')}: {content.get('evalue')}")
    return content


async def _await_idle(kc, msg_id: str, timeout: float) -> bool:
    """Whether IOPub carries the kernel's 'idle' status for ``msg_id`` within ``timeout`` seconds."""
    from queue import Empty

    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            msg = await kc.get_iopub_msg(timeout=remaining)
        except Empty:
            return False
        if (msg.get("parent_header", {}).get("msg_id") == msg_id and msg.get("msg_type") == "status"
                and msg["content"].get("execution_state") == "idle"):
            return True
    return False


@dataclass
class WarmKernel:
    """One started kernel with pandas, matplotlib and ``pipeline`` imported."""

    kernel_name: str
    extra_arguments: list[str] = field(default_factory=list)
    cwd: str | None = None
    km: object = None
    kc: object = None
    uses: int = 0
    starts: int = 0
    pending: str | None = None  # msg_id of a reset sent but not yet confirmed
    clean_cwd: str | None = None
    connected: bool = False     # IOPub seen working since the last start

    @property
    def alive(self) -> bool:
        return self.km is not None and _sync(self.km.is_alive)()

    def start(self, timeout: float = 60) -> "WarmKernel":
        """Start the kernel and wait until it is clean; retry when the start fails (e.g. a ZMQ port race)."""
        last = None
        for attempt in range(START_ATTEMPTS):
            try:
                if self.km is None:
                    self.launch()
                self.finish_reset(timeout)         # the reset sent at launch: clean and connected
                return self
            except Exception as exc:  # noqa: BLE001 - any failure to start is retried, then reported
                last = exc
                logger.warning("warm kernel start failed (attempt %d): %s", attempt + 1, exc)
                self.shutdown()
                time.sleep(0.1 + random.random() * 0.4)
        raise WarmKernelError(f"could not start kernel {self.kernel_name!r} after {START_ATTEMPTS} attempts: {last}")

    def launch(self) -> None:
        """Start the kernel process without waiting for it: it imports pandas and matplotlib at start-up
        (``exec_lines``) while the caller does other work."""
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        args = [*self.extra_arguments, f"--IPKernelApp.exec_lines=exec({PRELUDE!r})"]
        if not any(a.startswith("--HistoryManager.hist_file") for a in args):
            args.append("--HistoryManager.hist_file=:memory:")  # as nbclient does for the kernels it starts
        _sync(self.km.start_kernel)(extra_arguments=args, cwd=self.cwd or os.getcwd())
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.allow_stdin = False
        self.starts += 1
        self.uses = 0
        self.connected = False
        self.begin_reset(self.cwd or os.getcwd())

    def reset(self, cwd: str, timeout: float = 60) -> None:
        """Bring the kernel back to a fresh kernel's state, with ``cwd`` as working directory; wait for it."""
        self.begin_reset(cwd)
        self.finish_reset(timeout)

    def begin_reset(self, cwd: str) -> None:
        """Send the reset without waiting: the kernel resets while the caller renders the last notebook.

        The first reset is sent right after launch: ZMQ queues it until the kernel listens, and the
        kernel runs it as soon as its prelude has run."""
        self.pending = self.kc.execute(RESET.format(cwd=cwd), silent=True, store_history=False, stop_on_error=False)
        self.clean_cwd = cwd

    def finish_reset(self, timeout: float = 60) -> None:
        """Wait for the reset's reply. After the first one also for its 'idle' status on IOPub, proof that
        IOPub is connected: jupyter_client's ``wait_for_ready`` would add a fixed 0.2 s IOPub flush per
        start, and remains the fallback when the status does not arrive."""
        msg_id, self.pending = self.pending, None
        if msg_id is None:
            return
        _sync(_await_reply)(self.kc, msg_id, timeout, self.km)
        if not self.connected:
            if not _sync(_await_idle)(self.kc, msg_id, 5.0):
                _sync(self.kc.wait_for_ready)(timeout=timeout)
            self.connected = True

    def run(self, code: str, timeout: float = 600) -> None:
        """Execute ``code`` silently (no history, no outputs kept) and wait; raise WarmKernelError on error."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, stop_on_error=False)
        _sync(_await_reply)(self.kc, msg_id, timeout, self.km)

    def shutdown(self) -> None:
        km, kc, self.km, self.kc = self.km, self.kc, None, None
        try:
            if kc is not None:
                kc.stop_channels()
            if km is not None:
                process = getattr(km.provisioner, "process", None)
                if process is not None and process.poll() is None:
                    # kill and reap it here: jupyter_client would poll for its end every 0.1 s
                    process.kill()
                    process.wait(timeout=5)
                if _sync(km.is_alive)():
                    _sync(km.shutdown_kernel)(now=True)
                _sync(km.cleanup_resources)()
        except Exception as exc:  # noqa: BLE001 - a kernel that is already gone is fine
            logger.debug("warm kernel shutdown: %s", exc)


class KernelPool:
    """The warm kernels of one thread, one per kernel name."""

    def __init__(self, max_uses: int = DEFAULT_MAX_USES):
        self.max_uses = max_uses
        self.kernels: dict[str, WarmKernel] = {}
        self.restarts = 0
        atexit.register(self.shutdown)

    def launch(self, kernel_name: str, extra_arguments: list[str] | None = None, cwd: str | None = None) -> None:
        """Start a kernel process ahead of the first notebook without waiting for it (a worker does this
        first, then imports papermill and nbconvert while the kernel imports pandas and matplotlib)."""
        if kernel_name not in self.kernels:
            kernel = WarmKernel(kernel_name, list(extra_arguments or []), cwd or os.getcwd())
            try:
                kernel.launch()
            except Exception as exc:  # noqa: BLE001 - acquire() starts it again, with retries
                logger.warning("warm kernel launch failed: %s", exc)
                kernel.shutdown()
            self.kernels[kernel_name] = kernel

    def acquire(self, kernel_name: str, extra_arguments: list[str], cwd: str) -> WarmKernel:
        """The kernel for ``kernel_name``, clean (reset) and with ``cwd`` as working directory."""
        kernel = self.kernels.get(kernel_name)
        if kernel is not None and kernel.km is not None and kernel.kc is not None:
            try:
                kernel.finish_reset()                   # the reset sent at launch or after the last notebook
                if kernel.clean_cwd != cwd:
                    kernel.reset(cwd)
                return kernel
            except Exception as exc:  # noqa: BLE001 - a kernel that cannot be reset is not trusted
                logger.warning("warm kernel reset failed, restarting it: %s", exc)
                kernel.shutdown()
                self.restarts += 1
        kernel = WarmKernel(kernel_name, list(extra_arguments), cwd).start()
        self.kernels[kernel_name] = kernel
        return kernel

    def release(self, kernel: WarmKernel, failed: bool, cwd: str) -> None:
        """After a notebook: restart after a failure or ``max_uses`` notebooks, else start the reset."""
        kernel.uses += 1
        if failed or kernel.uses >= self.max_uses or not kernel.alive:
            kernel.shutdown()
            self.kernels.pop(kernel.kernel_name, None)
            self.restarts += 1
            return
        try:
            kernel.begin_reset(cwd)
        except Exception as exc:  # noqa: BLE001
            logger.warning("warm kernel reset could not be sent: %s", exc)
            kernel.shutdown()
            self.kernels.pop(kernel.kernel_name, None)

    def shutdown(self) -> None:
        for kernel in self.kernels.values():
            kernel.shutdown()
        self.kernels.clear()


_LOCAL = threading.local()


def pool() -> KernelPool:
    """This thread's kernel pool (created on first use).

    One pool per thread, because a kernel's client lives on the event loop of the thread that
    started it: the threads of :class:`pipeline.execute.KernelThreads` each drive their own kernel.
    """
    kernels = getattr(_LOCAL, "pool", None)
    if kernels is None:
        kernels = _LOCAL.pool = KernelPool()
    return kernels


def _sync(coro_fn):
    """Run a coroutine function on the thread's persistent loop (the one nbclient uses too)."""
    from jupyter_core.utils import ensure_async, run_sync

    async def call(*args, **kwargs):
        return await ensure_async(coro_fn(*args, **kwargs))

    return run_sync(call)


def _notebook_failed(nb) -> bool:
    if nb.metadata.get("papermill", {}).get("exception"):
        return True
    return any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


class WarmEngine:
    """papermill engine ``warm``: papermill's notebook client on a reused, reset kernel.

    papermill calls ``execute_notebook``, ``nb_kernel_name`` and ``nb_language`` on an engine; they
    are papermill's own (:class:`papermill.engines.Engine`), reached through a subclass built on
    first use, because this class must exist before papermill has finished importing.
    """

    @classmethod
    def execute_notebook(cls, nb, kernel_name, **kwargs):
        return _engine_class().execute_notebook(nb, kernel_name, **kwargs)

    @classmethod
    def nb_kernel_name(cls, nb, name=None):
        return _engine_class().nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb, language=None):
        return _engine_class().nb_language(nb, language)


_ENGINE = None


def _engine_class():
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import Engine
    from papermill.utils import merge_kwargs, remove_args

    class _WarmEngine(Engine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     kernel_cwd=None, **kwargs):
            # kernel_cwd: the kernel's working directory, set by the reset. Passed instead of papermill's
            # cwd=, which chdirs the whole process: a race when threads run notebooks side by side.
            cwd = kernel_cwd or os.getcwd()
            extra_arguments = kwargs.pop("extra_arguments", None) or []
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                        kernel_name=kernel_name, log=logger, log_output=log_output,
                                        stdout_file=stdout_file, stderr_file=stderr_file)
            kernels = pool()
            kernel = kernels.acquire(kernel_name, extra_arguments, cwd)
            client = PapermillNotebookClient(nb_man, km=kernel.km, **final_kwargs)
            client.kc = kernel.kc  # a client that neither starts nor stops the kernel it is given
            failed = True
            try:
                client.execute()
                failed = _notebook_failed(nb_man.nb)
            finally:
                kernels.release(kernel, failed, cwd)
            return nb_man.nb

    _ENGINE = _WarmEngine
    return _ENGINE


def register() -> None:
    """Register ``warm`` with papermill (the entry point does this too, once installed)."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, WarmEngine)
