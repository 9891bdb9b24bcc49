"""Execution in forked children (papermill, in-process engine), the content-hash cache, failure isolation
and determinism (tmp dirs only)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pipeline.run import cache
from pipeline.build.processed_data import build_all
from pipeline.config import load_config
from pipeline.errors import ExecutionError
from pipeline.run.execute import NOTEBOOK, make_task
from pipeline.run.runner import Runner
from pipeline.workflow import case_runner, render_reports, run_cases, run_tasks, submit_chapter_pages

from conftest import write_config

pytestmark = pytest.mark.slow

TWO = ["GM0150", "GM1894"]


@pytest.fixture(scope="module")
def runner():
    """One runner (jobs=1) shared by the tests of this module: it preloads once, then forks per notebook."""
    with case_runner(jobs=1) as r:
        yield r


@pytest.fixture
def config(tmp_path, built):
    """A config with its own processed copy (the built fixture's data) and reports in tmp."""
    cfg = load_config(write_config(tmp_path))
    shutil.copytree(built.processed_dir, cfg.processed_dir)
    return cfg


def _outputs(path):
    """Cells and outputs of an executed notebook, without timing or path metadata."""
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source if "injected-parameters" not in c.metadata.get("tags", []) else "",
             c.get("execution_count"), c.get("outputs")) for c in nb.cells]


def test_in_process_execution_gives_the_same_outputs_as_a_fresh_kernel(config, runner):
    warm = run_tasks(runner, [make_task(config, "GM0150", render=False), make_task(config, "GM1894", render=False)])
    assert all(r.ok for r in warm)
    warm_again = run_tasks(runner, [make_task(config, "GM0150", render=False)])[0]  # a second child, the same outputs
    fresh_task = make_task(config, "GM0150", render=False, fresh=True)
    fresh_task.notebook = str(config.reports_dir / "fresh" / "GM0150.ipynb")
    with case_runner(jobs=1, fresh=True) as plain:
        fresh = run_tasks(plain, [fresh_task])[0]
    assert fresh.ok
    assert _outputs(warm[0].output) == _outputs(fresh.output)
    assert _outputs(warm_again.output) == _outputs(fresh.output)
    nb = nbformat.read(warm[0].output, as_version=4)
    assert nb.metadata["papermill"]["parameters"]["case"] == "GM0150"   # papermill still writes its metadata
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]


def test_cache_skips_unchanged_and_reruns_what_changed(config, runner, capsys, monkeypatch, tmp_path):
    def executed():
        results = run_cases(config, TWO, runner=runner)
        return sorted(r.code for r in results if not r.skipped)

    assert executed() == TWO
    assert executed() == []
    assert "2 up to date" in capsys.readouterr().err
    # processed data
    (config.processed_dir / "ses.csv").write_text((config.processed_dir / "ses.csv").read_text() + "\n")
    assert executed() == TWO
    # a deleted output
    (config.reports_dir / "cases" / "GM0150" / "figuur1.png").unlink()
    assert executed() == ["GM0150"]
    # the notebook source
    notebook = tmp_path / "casus.ipynb"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells[0].source += "\n"
    nbformat.write(nb, notebook)
    monkeypatch.setattr("pipeline.run.execute.NOTEBOOK", notebook)
    assert executed() == TWO
    # a parameter of one case
    original = cache.case_lock
    monkeypatch.setattr(cache, "case_lock", lambda cfg, code, nb, params, outs: original(
        cfg, code, nb, {**params, **({"extra": 1} if code == "GM1894" else {})}, outs))
    assert executed() == ["GM1894"]
    monkeypatch.setattr(cache, "case_lock", original)
    assert executed() == ["GM1894"]
    # the pipeline package source
    monkeypatch.setattr(cache, "package_hash", lambda: "changed")
    assert executed() == TWO


def test_lock_file_records_a_hash_per_dependency(config, runner):
    run_cases(config, ["GM0150"], runner=runner)
    lock = json.loads((config.reports_dir / ".cache" / "GM0150.json").read_text())
    assert {"notebook", "parameters", "pipeline", "requirements.lock", "config",
            "processed/jeugdhulp.csv", "processed/provenance.json"} <= set(lock["deps"])
    assert any(name.endswith("GM0150.ipynb") for name in lock["outputs"])


def test_processed_files_in_the_key_are_those_the_notebook_reads(config):
    """Every processed file the case notebook opens is in the cache key, and build writes each of them."""
    from pipeline import processed
    from pipeline.processed import Processed
    from pipeline.processed import PROCESSED_FILES

    opened = []
    real_read_csv = pd.read_csv

    def spy(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real_read_csv(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pd, "read_csv", spy)
        patch.setattr(processed, "_PARSED", {})  # as a process that has not read them yet
        Processed.read(config.processed_dir)
    assert set(opened) | {"provenance.json"} == set(PROCESSED_FILES)
    assert all((config.processed_dir / name).exists() for name in PROCESSED_FILES)


def test_a_failing_case_does_not_stop_the_others(config, runner, tmp_path, monkeypatch, capsys):
    broken = tmp_path / "casus.ipynb"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('if case == "GM1894":\n    raise ValueError("kapot voor de test")'))
    nbformat.write(nb, broken)
    monkeypatch.setattr("pipeline.run.execute.NOTEBOOK", broken)
    with pytest.raises(ExecutionError) as info:
        run_cases(config, ["GM0150", "GM1894", "GM0344"], runner=runner)
    message = str(info.value)
    assert "1 of 3 cases failed" in message and "GM1894" in message and "kapot voor de test" in message
    assert "cell " in message
    summary = capsys.readouterr().err
    assert "GM1894: cell" in summary and "notebook kept at" in summary
    ok = [r.code for r in info.value.results if r.ok]
    assert ok == ["GM0150", "GM0344"]
    kept = config.reports_dir / "notebooks" / "GM1894.ipynb"
    assert kept.exists() and "kapot voor de test" in kept.read_text()
    lock = json.loads((config.reports_dir / ".cache" / "GM1894.json").read_text())
    assert "kapot voor de test" in lock["failed"] and lock["key"] is None   # a failed case reruns next time
    from pipeline.report.render import notebook_failed
    assert "kapot voor de test" in notebook_failed(kept)
    # the next notebook still runs (each in a child of its own)
    assert (config.reports_dir / "GM0344.html").exists()


def test_cli_failure_marks_the_index_and_exits_2(tmp_path, built, monkeypatch, capsys):
    """Through the command line with two worker processes: one case raises, the others finish."""
    from pipeline.cli import main

    cfg = load_config(write_config(tmp_path))
    shutil.copytree(built.processed_dir, cfg.processed_dir)
    cache.build_lock(cfg).record()
    broken = tmp_path / "casus.ipynb"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('if case == "GM0344":\n    raise KeyError("GM0344 ontbreekt")'))
    nbformat.write(nb, broken)
    monkeypatch.setattr("pipeline.run.execute.NOTEBOOK", broken)  # the task carries the path to the workers
    assert main(["all", "--config", str(cfg.path), "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "1 of 5 cases failed" in err and "GM0344: cell" in err and "ontbreekt" in err
    index = (cfg.reports_dir / "index.html").read_text()
    assert "mislukt" in index and "ontbreekt" in index
    assert (cfg.reports_dir / "GM0150.html").exists() and (cfg.reports_dir / "GM0344.html").exists()
    assert (cfg.reports_dir / "notebooks" / "GM0344.ipynb").exists()


def _digests(folder, pattern):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob(pattern)) if p.is_file()}


def test_two_runs_are_byte_identical_except_the_stamp(tmp_path, runner):
    from pipeline.check.validate import validate

    runs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        cfg = load_config(write_config(tmp_path / name))
        build_all(cfg)
        validate(cfg)
        run_cases(cfg, runner=runner)
        render_reports(cfg, runner=runner)
        runs.append(cfg)
    a, b = runs
    assert _digests(a.processed_dir, "*") == _digests(b.processed_dir, "*")
    assert _digests(a.reports_dir / "cases", "**/*") == _digests(b.reports_dir / "cases", "**/*")
    assert _digests(a.reports_dir / "overzicht", "*") == _digests(b.reports_dir / "overzicht", "*")
    assert _digests(a.reports_dir, "*.xlsx") == _digests(b.reports_dir, "*.xlsx") != {}
    pages = sorted(p.name for p in a.reports_dir.glob("*.html"))
    assert {"index.html", "overzicht.html", "validation.html", "GM0150.html"} <= set(pages)
    for page in [a.reports_dir / name for name in pages]:
        one = page.read_text().replace(str(a.reports_dir.parent), "")
        two = (b.reports_dir / page.name).read_text().replace(str(b.reports_dir.parent), "")
        differing = [(x, y) for x, y in zip(one.splitlines(), two.splitlines()) if x != y]
        assert len(one.splitlines()) == len(two.splitlines())
        assert all(re.match(r'<p class="stamp">Gegenereerd', x) for x, _ in differing), differing[:1]
        assert len(page.read_bytes()) < 150_000


def test_unchanged_build_leaves_processed_files_untouched(config):
    before = {p.name: p.stat().st_mtime_ns for p in config.processed_dir.iterdir()}
    build_all(config)
    after = {p.name: p.stat().st_mtime_ns for p in config.processed_dir.iterdir()}
    assert before == after


def test_parallel_children_share_the_work_and_give_the_same_notebooks_as_one_at_a_time(config, tmp_path):
    """Two children at a time, each a process of its own (not this one, not each other): the same executed
    notebooks (outputs, parameters, execution counts) and reports as one child at a time."""
    import os

    with case_runner(jobs=2) as two:
        assert not two.is_warm()  # so the first case executes while this process prepares rendering
        parallel = run_tasks(two, [make_task(config, code) for code in TWO])
    assert all(r.ok for r in parallel)
    pids = {r.worker for r in parallel}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    serial = []
    with case_runner(jobs=1) as one:
        for code in TWO:
            task = make_task(config, code)
            task.notebook = str(tmp_path / "serial" / f"{code}.ipynb")
            task.html = str(tmp_path / "serial" / f"{code}.html")
            serial.append(task)
        by_one = run_tasks(one, serial)
    assert all(r.ok for r in by_one), [r.error for r in by_one]
    for a, b in zip(parallel, by_one):
        assert _outputs(a.output) == _outputs(b.output)
        # also the first case's report, rendered here after its execution-only child finished
        assert Path(a.html).read_text().count("<table") >= 5
        assert Path(a.html).read_bytes() == Path(b.html).read_bytes()


def _now():
    import time

    return time.monotonic()


def test_queued_case_work_starts_before_lower_priority_pages(runner):
    """Work queued with priority 1 (the chapter pages) waits until no priority-0 work (cases) is queued."""
    page = runner.submit(_now, priority=1)
    cases = [runner.submit(_now), runner.submit(_now)]
    runner.wait([page, *cases])
    assert cases[0].result() < cases[1].result() < page.result()


def test_an_error_in_a_page_step_is_raised_with_its_type_and_the_next_step_runs(config, runner):
    from pipeline.errors import PipelineError
    from pipeline.report.exports import write_workbook_file

    failing = runner.submit(write_workbook_file, str(config.path / "missing.yml"))
    with pytest.raises(PipelineError, match="not found|missing|cannot"):
        failing.result(timeout=120)
    runner.submit(write_workbook_file, str(config.path)).result(timeout=120)
    assert (config.reports_dir / "hoofdstuk6.xlsx").stat().st_size > 5_000


def test_chapter_pages_are_skipped_when_unchanged_and_rerun_when_the_data_changes(config, runner):
    from pipeline.check.validate import validate

    validate(config)  # the build step writes validation.csv; the built fixture does not
    def executed_at():
        notebook = nbformat.read(config.reports_dir / "notebooks" / "validatie.ipynb", as_version=4)
        return notebook.metadata["papermill"]["start_time"]

    submit_chapter_pages(config, runner, "stamp").wait()
    assert (config.reports_dir / "validation.html").exists() and (config.reports_dir / "hoofdstuk6.xlsx").exists()
    first = executed_at()
    assert submit_chapter_pages(config, runner, "stamp").futures == []   # nothing changed: nothing queued
    (config.processed_dir / "ses.csv").write_text((config.processed_dir / "ses.csv").read_text() + "\n")
    pending = submit_chapter_pages(config, runner, "stamp")
    assert len(pending.futures) == 3   # the overview's figures, the validation page, the workbook
    pending.wait()
    assert executed_at() > first
    assert submit_chapter_pages(config, runner, "stamp").futures == []


def _collector() -> tuple[bool, int]:
    import gc

    return gc.isenabled(), gc.get_freeze_count()


def test_the_preload_leaves_the_garbage_collector_on_and_its_imports_frozen(runner):
    """The preload pauses the collector while it imports; afterwards it must run again, in this process
    and in every child (a case making cyclic garbage would otherwise only grow), and what the preload
    imported is frozen: out of every child's collections."""
    import gc

    runner.warm()
    assert gc.isenabled()
    enabled, frozen = runner.submit(_collector).result(timeout=60)
    assert enabled
    assert frozen > 100_000  # pandas, matplotlib, papermill, nbconvert: hundreds of thousands of objects


def test_a_paused_collector_is_switched_back_on_after_an_error_and_only_by_the_outermost_pause():
    import gc

    from pipeline.memory import collector_paused

    with pytest.raises(ValueError):
        with collector_paused():
            with collector_paused():
                pass
            assert not gc.isenabled()  # the inner pause left it off: the outer one is still running
            raise ValueError("a failing build")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


def _sleep(seconds):
    import time

    time.sleep(seconds)


PREPARED: list[str] = []  # what the runner's preparation steps did in this process, as a child inherits it


def _prepared() -> list[str]:
    return list(PREPARED)


def test_a_job_that_needs_fewer_preparation_steps_starts_before_the_others_run():
    """``run`` forks its first cases once execution is prepared, and prepares rendering while they run."""
    PREPARED.clear()
    with Runner(jobs=2, prepare=(lambda: PREPARED.append("execution"), lambda: PREPARED.append("rendering"))) as r:
        full = r.submit(_prepared)
        r.start(warm=False)                    # it needs every step, none ran: nothing may start
        assert PREPARED == [] and not r.running
        early = r.submit(_prepared, priority=-1, stages=1)
        r.warm(1)
        r.start(warm=False)                    # the early job starts; the full one still waits
        assert PREPARED == ["execution"] and len(r.running) == 1 and not r.is_warm()
        r.warm()
        assert early.result() == ["execution"]
        assert full.result() == ["execution", "rendering"]
        assert r.is_warm() and PREPARED == ["execution", "rendering"]  # each step ran once


def test_closing_a_runner_kills_what_runs_and_cancels_what_is_queued(config):
    """After Ctrl-C or an error nobody waits for the queued notebooks: close() must not run them."""
    import os
    import time

    runner = Runner(jobs=1)
    busy = runner.submit(_sleep, 60)
    queued = [runner.submit(run_task_should_not_run) for _ in range(3)]
    runner.wait([busy], timeout=1)             # started, still running
    child = busy.pid
    started = time.monotonic()
    runner.close()
    assert time.monotonic() - started < 5
    assert busy.cancelled() and all(f.cancelled() for f in queued)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)                      # killed and reaped


def run_task_should_not_run():
    raise AssertionError("a queued task ran after close()")


def test_a_case_whose_cell_hangs_fails_after_the_timeout_and_the_others_finish(config, tmp_path, monkeypatch):
    hanging = tmp_path / "casus.ipynb"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('if case == "GM1894":\n    import time\n    time.sleep(120)'))
    nbformat.write(nb, hanging)
    monkeypatch.setattr("pipeline.run.execute.NOTEBOOK", hanging)
    with case_runner(jobs=1) as runner, pytest.raises(ExecutionError) as info:
        run_cases(config, ["GM1894", "GM0150"], runner=runner, timeout=3)
    failed = {r.code: r for r in info.value.results if not r.ok}
    assert list(failed) == ["GM1894"] and "timed out" in failed["GM1894"].error
    assert (config.reports_dir / "GM0150.html").exists()  # the next case, in the next child
