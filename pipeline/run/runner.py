"""Run functions in forked children of this process, ``jobs`` at a time.

The parent imports and warms what the children need once (the steps of ``prepare``, each run before the
first child that needs it forks); every child inherits it, runs one function, sends its result back through a pipe and exits, so
every job starts from the same state. A child dies with its parent (``PR_SET_PDEATHSIG``, also after
``kill -9``); :meth:`Runner.close` kills and reaps what still runs (Ctrl-C, an error).
Work is a direct call: ``runner.submit(write_index_page, config_path, entries, stamp)``.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable, Sequence


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


class WorkerError(RuntimeError):
    """A child process that died or was killed before it reported a result."""


class Job:
    """``fn(*args)`` in a forked child; :meth:`result` waits for it (running the runner meanwhile)."""

    def __init__(self, runner: "Runner", fn, args: tuple, deadline: float | None, stages: int | None):
        self.runner, self.fn, self.args, self.deadline, self.stages = runner, fn, args, deadline, stages
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
    """Runs jobs in forked children of this process, ``jobs`` at a time.

    Work is queued by :meth:`submit` and started when someone waits (:meth:`wait`, ``Job.result``) or
    :meth:`start` is called, lowest ``priority`` first: pages queued early with a higher priority fill the
    slots that no case notebook needs.

    ``prepare``: the steps that warm this process for the children, in order; each runs once, before the
    first child that needs it forks. A job needs all of them unless it was submitted with fewer
    (``stages``): it can then start while this process still runs the others.
    """

    def __init__(self, jobs: int | None = None, prepare: Sequence[Callable[[], None]] = ()):
        self.jobs = jobs or default_jobs()
        self.prepare = tuple(prepare)
        self.queue: list = []
        self.order = itertools.count()
        self.running: dict[int, Job] = {}   # by pipe fd
        self.prepared = 0                   # how many steps of ``prepare`` ran

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, fn, *args, priority: int = 0, timeout: float | None = None, stages: int | None = None) -> Job:
        """Queue ``fn(*args)`` for a child; ``timeout``: kill the child after that many seconds; ``stages``:
        the child needs only the first that many steps of ``prepare`` (None: all)."""
        job = Job(self, fn, args, timeout, stages)
        heapq.heappush(self.queue, (priority, next(self.order), job))
        return job

    def _steps(self, stages: int | None) -> int:
        """How many steps of ``prepare`` a job needing ``stages`` (None: all) needs."""
        return len(self.prepare) if stages is None else min(stages, len(self.prepare))

    def warm(self, stages: int | None = None) -> None:
        """Run the steps of ``prepare`` up to ``stages`` (None: all) that did not run yet, now."""
        while self.prepared < self._steps(stages):
            self.prepare[self.prepared]()
            self.prepared += 1

    def is_warm(self, stages: int | None = None) -> bool:
        """Whether the steps of ``prepare`` up to ``stages`` (None: all) ran."""
        return self.prepared >= self._steps(stages)

    def start(self, warm: bool = True) -> None:
        """Fork the queued jobs the free slots allow now, without waiting for any: this process can do
        other work meanwhile (:meth:`wait` collects them). ``warm=False``: only as far as the queue's
        jobs need no step of ``prepare`` that has not run, so this process can run those meanwhile."""
        while self.queue and len(self.running) < self.jobs:
            if not warm and not self.is_warm(self.queue[0][2].stages):
                break
            self._start(heapq.heappop(self.queue)[2])

    def wait(self, jobs: list[Job], timeout: float | None = None) -> None:
        """Run the queue until every job of ``jobs`` is done (or ``timeout`` seconds passed)."""
        until = None if timeout is None else time.monotonic() + timeout
        while not all(job.done() for job in jobs):
            self.start()
            if not self.running:
                break
            now = time.monotonic()
            limits = [j.deadline for j in self.running.values() if j.deadline] + ([until] if until else [])
            ready, _, _ = select.select(list(self.running), [], [], max(0.0, min(limits) - now) if limits else None)
            finished, exited = [], []
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                if chunk:
                    self.running[fd].data += chunk
                else:  # its result is in: the child is exiting
                    exited.append(self.running.pop(fd))
            now = time.monotonic()
            for fd, job in list(self.running.items()):
                if job.deadline and now >= job.deadline:
                    self._kill(self.running.pop(fd))
                    finished.append((job, ("error", WorkerError(f"timed out: killed after {job.seconds:g} s"))))
            # the freed slots get their next job before this process waits for the exited children (the
            # kernel tears down each one's memory, ~10 ms) and does the bookkeeping of the finished ones
            # (callbacks: a case's lock, its hashes of the outputs), not after it
            self.start()
            finished += [(job, self._reap(job)) for job in exited]
            for job, value in finished:
                job.finish(value)
            if until is not None and now >= until:
                break

    def _start(self, job: Job) -> None:
        self.warm(job.stages)
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

    def _reap(self, job: Job) -> tuple:
        """The result a finished child sent (or what its death says)."""
        os.close(job.fd)
        _, status = os.waitpid(job.pid, 0)
        try:
            value = pickle.loads(bytes(job.data))
        except Exception:  # noqa: BLE001 - nothing or half a result: the child died
            how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit code {os.waitstatus_to_exitcode(status)}")
            value = ("error", WorkerError(f"the worker process died ({how})"))
        return value

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
