"""Content-hash cache: rerun a step only when something it depends on changed.

Like DVC's ``dvc.lock``, each step records a sha256 per dependency and per output in a small JSON
lock file; a step is up to date when every dependency hashes as recorded and every output still
exists with the hash it had when written. Timestamps play no part, so a ``git checkout`` or a copy
of the repository does not trigger reruns, and a changed byte always does.

* case ``<code>``: ``<reports>/.cache/<code>.json``. Depends on the processed tables the notebook
  reads (``data/processed/*.csv`` read by ``Processed.read`` and ``provenance.json``), the study
  config, the notebook source, the papermill parameters, the ``pipeline`` package source (every
  ``.py`` file and asset) and the pinned package versions (``requirements.lock``).
* build: ``<processed>/.build.json``. Depends on every file of the raw snapshot folder, the study
  config, the ``pipeline`` package source and ``requirements.lock``.
* index: ``<reports>/.cache/index.json``. Depends on the case locks, the processed folder and the
  package source.
* chapter pages: ``<reports>/.cache/chapter.json``, the validation page and the workbook. Depend on
  the processed folder, the validation notebook and the package source, not on the cases.

Paths in a lock file are relative (outputs to the lock file's folder, the parameters' paths to the
repository or the reports folder), so a copied repository or a moved reports folder is still up to date.
A case whose last run failed has a lock that records the error and never matches, so the index can say
so and the next run retries it.

:func:`run_lock` keeps a second run off an output folder another run is writing (``<folder>/.run.lock``,
an ``flock`` the kernel releases when the holder dies, even by ``kill -9``).

Only the standard library is imported here: a no-op run must not pay for pandas or papermill.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.config import ROOT, StudyConfig
from pipeline.processed import PROCESSED_FILES
from pipeline.run import execute
from pipeline.run.execute import Task, make_task, output_path
from pipeline.errors import PipelineError
from pipeline.iorw import write_text

PACKAGE = ROOT / "pipeline"
LOCKFILE = ROOT / "requirements.lock"
_memo: dict[tuple, str] = {}


def file_hash(path: Path) -> str | None:
    """sha256 of a file, or None when it does not exist (memoised on path, size and mtime)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _memo:
        _memo[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _memo[key]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tree_hash(root: Path, suffixes: tuple[str, ...] | None = None) -> str:
    """One hash over every file below ``root`` (relative path and content), ``__pycache__`` excluded."""
    digest = hashlib.sha256()
    if root.exists():
        for path in sorted(p for p in root.rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts and p.name != RUN_LOCK):
            if suffixes and path.suffix not in suffixes:
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + (file_hash(path) or "").encode() + b"\n")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def package_hash() -> str:
    """The ``pipeline`` package source: every .py file and every asset. Hashed once per process (every lock
    of a run has it: the index alone asks once per executed case), as the source this run runs."""
    return tree_hash(PACKAGE, (".py", ".css", ".json", ".yml", ".yaml", ".txt", ".html", ".j2"))


@dataclass
class Lock:
    """Dependency and output hashes of one step, compared with those recorded in ``path``."""

    path: Path
    deps: dict[str, str | None]
    outputs: list[Path] = field(default_factory=list)

    @property
    def key(self) -> str:
        return text_hash(json.dumps(self.deps, sort_keys=True))

    def recorded(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def stale_reason(self) -> str | None:
        """None when up to date, else what changed (the first dependency or output that differs)."""
        old = self.recorded()
        if old is None:
            return "never run"
        if old.get("failed"):
            return f"failed last time ({old['failed']})"
        if old.get("key") == self.key:
            for name, digest in (old.get("outputs") or {}).items():
                if file_hash(self.path.parent / name) != digest:  # relative to the lock (absolute: as is)
                    return f"output {name} changed or missing"
            return None
        for name, digest in self.deps.items():
            if old.get("deps", {}).get(name) != digest:
                return f"{name} changed"
        return "dependencies changed"

    def record(self, extra: dict | None = None) -> None:
        outputs = {os.path.relpath(p, self.path.parent): file_hash(p) for p in self.outputs}
        data = {"key": self.key, "deps": self.deps, "outputs": outputs, **(extra or {})}
        write_text(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def record_failure(self, error: str) -> None:
        """The last run failed with ``error``: never up to date, and the index says why."""
        data = {"key": None, "deps": self.deps, "outputs": {}, "failed": error}
        write_text(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def failure(self) -> str | None:
        """The error of the last run, when it failed."""
        return (self.recorded() or {}).get("failed")

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def cache_dir(config: StudyConfig) -> Path:
    return config.reports_dir / ".cache"


def common_deps(config: StudyConfig) -> dict[str, str | None]:
    return {"config": file_hash(config.path), "pipeline": package_hash(), "requirements.lock": file_hash(LOCKFILE)}


def relative(path, start: Path) -> str:
    """``path`` relative to ``start`` when it lies below it, else as given: the key of a copy is the same."""
    try:
        return Path(path).resolve().relative_to(start.resolve()).as_posix()
    except ValueError:
        return str(path)


def portable_parameters(config: StudyConfig, parameters: dict) -> dict:
    """The papermill parameters with their paths relative (config to the repository, output to reports)."""
    out = dict(parameters)
    if "config_path" in out:
        out["config_path"] = relative(out["config_path"], ROOT)
    if "output_dir" in out:
        out["output_dir"] = relative(out["output_dir"], config.reports_dir)
    return out


def case_lock(config: StudyConfig, code: str, notebook: Path, parameters: dict, outputs: list[Path]) -> Lock:
    deps = {f"processed/{name}": file_hash(config.processed_dir / name) for name in PROCESSED_FILES}
    deps.update(common_deps(config))
    deps["notebook"] = file_hash(notebook)
    deps["parameters"] = text_hash(json.dumps(portable_parameters(config, parameters), sort_keys=True))
    return Lock(cache_dir(config) / f"{code}.json", deps, outputs)


def case_outputs(output_dir: Path) -> list[Path]:
    """The files a case wrote in its output folder (tables, figures, figure data)."""
    if not output_dir.exists():
        return []
    return sorted(p for p in output_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def build_lock(config: StudyConfig) -> Lock:
    # the build step also validates against the transcribed chapter and the reviewed differences
    deps = {"raw": tree_hash(config.raw_dir), "published": tree_hash(config.published_dir)}
    deps.update(common_deps(config))
    return Lock(config.processed_dir / ".build.json", deps)


def build_outputs(config: StudyConfig) -> list[Path]:
    return sorted(p for p in config.processed_dir.glob("*") if p.is_file() and not p.name.startswith("."))


def index_lock(config: StudyConfig, codes: list[str]) -> Lock:
    """The index and overview pages: they show every case's state (ok, failed, stale, missing), so
    that state is part of the key, and every file they write (the stylesheet, the scatter plot) an output."""
    deps = {f"case/{code}": f"{file_hash(cache_dir(config) / f'{code}.json')} {case_state(config, code)[0]}"
            for code in codes}
    deps["processed"] = tree_hash(config.processed_dir)
    deps["wijzigingen"] = file_hash(config.reports_dir / "wijzigingen.json")   # the index links the last diff
    deps["notebook"] = file_hash(execute.NOTEBOOK)  # looked up now: a test may point it elsewhere
    deps.update(common_deps(config))
    return Lock(cache_dir(config) / "index.json", deps, index_outputs(config))


def index_outputs(config: StudyConfig) -> list[Path]:
    reports = config.reports_dir
    figures = sorted(p for p in (reports / "overzicht").glob("*") if p.is_file() and not p.name.startswith("."))
    if not figures:  # never written yet, or deleted: the overview's plot must be there
        figures = [reports / "overzicht" / "spreiding.png"]
    return [reports / "index.html", reports / "overzicht.html", reports / "style.css", *figures]


def chapter_lock(config: StudyConfig, validation_notebook: Path, outputs: list[Path] | None = None) -> Lock:
    """The steps about the chapter as a whole, whichever cases ran: the validation page and the workbook.
    ``outputs``: what :meth:`Lock.record` records; the check compares the outputs recorded last time."""
    deps = {"processed": tree_hash(config.processed_dir), "notebook": file_hash(validation_notebook)}
    deps.update(common_deps(config))
    return Lock(cache_dir(config) / "chapter.json", deps, list(outputs or []))


def task_lock(config: StudyConfig, task: Task) -> Lock:
    """The lock of one case's run: its notebook, parameters and processed data in, its files out."""
    outputs = [Path(task.notebook), *case_outputs(Path(task.output_dir))]
    if task.html:
        outputs.append(Path(task.html))
    return case_lock(config, task.code, Path(task.source), task.parameters, outputs)


def refresh_case_lock(config: StudyConfig, code: str) -> None:
    """After the report step rendered a case's HTML again from its notebook: record the new HTML in the
    case's lock, when everything else in it (dependencies, notebook, tables, figures) is as recorded."""
    task = make_task(config, code)
    lock = task_lock(config, task)
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
    lock = task_lock(config, make_task(config, code))
    recorded = lock.recorded()
    if recorded is None:
        return ("missing", None) if not output_path(config, code).exists() else ("stale", "no record of its run")
    if recorded.get("failed"):
        return "failed", recorded["failed"]
    reason = lock.stale_reason()
    return ("ok", None) if reason is None else ("stale", reason)


# ---------------------------------------------------------------------------------------------
# One run per output folder

RUN_LOCK = ".run.lock"
# what pipeline.iorw.atomic_path and tempfile leave behind when a writer is killed: ".<name>.<8 random>"
_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?$")


@contextmanager
def run_lock(directory: Path, command: str = ""):
    """Hold ``<directory>/.run.lock`` for the duration of a run; raise naming the holder when another
    process has it. The lock is an ``flock``: it ends with its process, also one killed by ``kill -9``.
    Once held, the temporary files an interrupted run left in ``directory`` are removed."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RUN_LOCK
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLockedError(f"{directory} is in use by another run ({holder}); wait for it to finish "
                                 "or give this run other output folders (paths: in the config)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}: python -m pipeline {command}".rstrip() + "\n")
        handle.flush()
        remove_temporary_files(directory)
        try:
            yield
        finally:  # also after Ctrl-C: what a killed child left half-written goes before the lock does
            remove_temporary_files(directory)
    finally:
        handle.close()  # releases the flock


class RunLockedError(PipelineError):
    """Another run is writing the same output folder."""

    exit_code = 4


def remove_temporary_files(directory: Path) -> list[Path]:
    """Delete the half-written temporary files (``.<name>.<random>``) of an interrupted run below ``directory``.

    Only called with the run lock held, so no live writer can own them."""
    removed = []
    for path in directory.rglob(".*"):
        if path.is_file() and path.name != RUN_LOCK and _TEMPORARY.match(path.name):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
