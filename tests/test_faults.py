"""Fault injection: bad input, interruption and stale outputs (issue 15).

Every fault of the issue, each with the behaviour it must have now: a one-line error and a non-zero
exit code for bad input (no traceback without --debug), an index that tells the truth about the last
run, outputs that are part of the cache key, locks written per case with relative paths (an interrupted
run resumes, a copied repository is up to date), one run per output folder, and ``kill -9`` at random
points during ``all`` (fixed seed, bounded count): after each, a rerun gives byte-identical outputs
to a clean run and no kernel, child process or temporary file is left.

The end-to-end faults run ``python -m pipeline`` in a copy of the repository (``git``-free: the package,
notebooks, config and data), with ``SOURCE_DATE_EPOCH`` fixed so pages carry the same stamp.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from pipeline.run import cache
from pipeline import cli
from pipeline.data import manifest  # where the raw snapshot's files are read and verified
from pipeline.config import ROOT, load_config

from conftest import write_config

EPOCH = "1767225600"   # 2026-01-01 00:00 UTC: the stamp of every page in these runs
CASES = ["--case", "GM0150", "--case", "GM1894"]   # two cases keep the end-to-end runs short


# ---------------------------------------------------------------------------------------------
# Helpers


def _main(argv, capsys):
    code = cli.main(argv)
    return code, capsys.readouterr().err


def _one_line_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("error:") or "Traceback" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def config(tmp_path, built):
    """A config with processed data (the built fixture's, with a build record) and reports in tmp."""
    cfg = load_config(write_config(tmp_path))
    shutil.copytree(built.processed_dir, cfg.processed_dir)
    cache.build_lock(cfg).record()
    return cfg


class _FakeTraitError(Exception):
    pass


def _failing_papermill(monkeypatch, message="The 'timeout' trait expected an int, not the float 2.5."):
    """papermill failing before any cell runs (as nbclient's TraitError on a float timeout did)."""
    import papermill

    def execute_notebook(*args, **kwargs):
        raise _FakeTraitError(message)

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)


def _previous_good_run(config, code="GM0150"):
    """What an earlier, successful run left: an executed notebook, its report, a table and a lock."""
    from pipeline.run.cache import task_lock
    from pipeline.run.execute import case_dir, html_path, make_task, output_path

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1", outputs=[])]
    output_path(config, code).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output_path(config, code))
    html_path(config, code).write_text("<main>\noude cijfers\n</main>")
    case_dir(config, code).mkdir(parents=True, exist_ok=True)
    (case_dir(config, code) / "tabel2.csv").write_text("oud\n")
    (case_dir(config, code) / "tabel9_van_een_oude_config.csv").write_text("oud\n")
    task_lock(config, make_task(config, code)).record()


# ---------------------------------------------------------------------------------------------
# 1, 2: failed cases are shown as failed; arguments are validated at parse time


def test_a_fractional_timeout_reaches_papermill_as_whole_seconds(config, monkeypatch):
    import papermill

    from pipeline.run.execute import make_task, run_task

    seen = {}
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **kw: seen.update(kw))
    task = make_task(config, "GM0150", render=False)
    task.timeout, task.fresh = 2.5, True
    run_task(task)
    assert seen["execution_timeout"] == 3 and isinstance(seen["execution_timeout"], int)


def test_a_case_that_fails_before_its_cells_run_is_failed_in_the_index_and_its_report(config, monkeypatch, capsys):
    from pipeline.errors import ExecutionError
    from pipeline.run.execute import case_dir, html_path, output_path
    from pipeline.workflow import case_runner, run_cases
    from pipeline.processed import read_names, read_provenance
    from pipeline.report.render import index_entry, index_html

    _previous_good_run(config)
    _failing_papermill(monkeypatch)
    with case_runner(jobs=1, fresh=True) as runner, pytest.raises(ExecutionError):
        run_cases(config, ["GM0150"], runner=runner, force=True, fresh=True)
    entry = index_entry(config, "GM0150", read_names(config.processed_dir))
    assert entry["state"] == "failed" and "float 2.5" in entry["error"]
    page = index_html(config, read_provenance(config.processed_dir), [entry], "stamp")
    assert 'data-state="failed">mislukt' in page and 'data-state="ok"' not in page
    report = html_path(config, "GM0150").read_text()
    assert "Deze casus is mislukt" in report and "oude cijfers" not in report
    assert not output_path(config, "GM0150").exists()           # the old notebook is not kept as if current
    assert list(case_dir(config, "GM0150").iterdir()) == []      # nor old tables (from an earlier config)
    assert "float 2.5" in json.loads((config.reports_dir / ".cache" / "GM0150.json").read_text())["failed"]
    capsys.readouterr()


@pytest.mark.parametrize("args, message", [
    (["--jobs", "-1"], "--jobs/-j: -1 is not 1 or more"),
    (["--jobs", "0"], "--jobs/-j: 0 is not 1 or more"),
    (["--jobs", "x"], "'x' is not a whole number"),
    (["--timeout", "0"], "--timeout: 0 is not a number of seconds above 0"),
    (["--timeout", "-5"], "--timeout: -5 is not a number of seconds above 0"),
    (["--timeout", "nan"], "--timeout: nan is not a number of seconds above 0"),
])
def test_bad_jobs_and_timeouts_are_usage_errors_at_parse_time(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(["all", *args])
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_fractional_timeout_is_accepted():
    assert cli.build_parser().parse_args(["all", "--timeout", "2.5"]).timeout == 2.5


# ---------------------------------------------------------------------------------------------
# 3: ordinary anomalies are one-line errors


def test_an_unreadable_raw_file_is_a_one_line_error(config, monkeypatch, capsys):
    real_open = open

    def unreadable(path, *args, **kwargs):
        if Path(path).name == "Perioden.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(manifest, "open", unreadable, raising=False)
    code, err = _main(["build", "--force", "--config", str(config.path)], capsys)
    assert code == 2
    assert "Perioden.json cannot be read (Permission denied); check its permissions" in _one_line_error(err)


def test_a_read_only_reports_folder_is_a_one_line_error(config, monkeypatch, capsys):
    import papermill

    import pipeline.iorw

    reports = str(config.reports_dir)

    def guarded(real):
        def call(path, *args, **kwargs):
            if str(path).startswith(reports) or str(kwargs.get("dir", "")).startswith(reports):
                raise PermissionError(13, "Permission denied", str(path if path else kwargs.get("dir")))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(cache, "open", guarded(open), raising=False)
    monkeypatch.setattr(pipeline.iorw.tempfile, "mkstemp", guarded(pipeline.iorw.tempfile.mkstemp))
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **kw: None)
    code, err = _main(["run", "--config", str(config.path), "--case", "GM0150", "--fresh-kernels", "--jobs", "1"],
                      capsys)
    assert code == 2
    assert "Permission denied" in _one_line_error(err) and reports in err


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw["cases"][0]["references"].append(raw["cases"][0]["code"]), "reference"),
    (lambda raw: raw["periods"].update(iv3_rekening_year="negentien"), "iv3_rekening_year"),
    (lambda raw: raw["tables"]["iv3"]["categories"]["TaakveldBalanspost"]["maatwerk_18min"].update(key=6.72),
     "key"),
])
def test_config_anomalies_are_one_line_errors(tmp_path, change, message, capsys):
    import yaml

    path = write_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    change(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    code, err = _main(["build", "--config", str(path)], capsys)
    assert code == 2 and message in _one_line_error(err)


# ---------------------------------------------------------------------------------------------
# 6: one run per output folder, raw checked before reporting on processed data, make clean


def test_a_second_run_on_the_same_folders_says_which_process_holds_them(config):
    with cache.run_lock(config.reports_dir, "all"):
        result = subprocess.run([sys.executable, "-m", "pipeline", "report", "--config", str(config.path)],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 4, result.stderr
    assert f"is in use by another run (pid {os.getpid()}: python -m pipeline all)" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["validate", "run", "run --force"])  # --force: checked beside the preload
def test_validate_and_run_refuse_processed_data_of_a_corrupt_raw_snapshot(tmp_path, raw_copy, built, command,
                                                                         capsys):
    cfg = load_config(write_config(tmp_path, raw=raw_copy))
    shutil.copytree(built.processed_dir, cfg.processed_dir)
    cache.build_lock(cfg).record()
    periods = raw_copy / "84134NED" / "Perioden.json"
    periods.write_text(periods.read_text().replace("2017", "2071", 1))
    code, err = _main([*command.split(), "--config", str(cfg.path)], capsys)
    assert code == 2 and "checksum mismatch" in _one_line_error(err) and "Perioden.json" in err
    assert not (cfg.reports_dir / "notebooks").exists()   # no case ran on it


def test_all_stops_at_a_corrupt_raw_snapshot_with_the_error_of_its_build(tmp_path, raw_copy, capsys):
    """``all`` builds in a child while it preloads the notebooks' imports: the build's error still ends the
    run in one line, and no case runs on processed data that does not follow from the snapshot."""
    cfg = load_config(write_config(tmp_path, raw=raw_copy))
    periods = raw_copy / "84134NED" / "Perioden.json"
    periods.write_text(periods.read_text().replace("2017", "2071", 1))
    code, err = _main(["all", "--config", str(cfg.path)], capsys)
    assert code == 2 and "checksum mismatch" in _one_line_error(err) and "Perioden.json" in err
    assert not (cfg.reports_dir / "notebooks").exists() and not (cfg.reports_dir / "index.html").exists()


def test_the_overview_without_its_figures_is_a_one_line_error_naming_the_fix(config, capsys):
    """The overview page reads the figures drawn beside the cases; without them it says what to run."""
    from pipeline.errors import PipelineError
    from pipeline.processed import Processed
    from pipeline.report.overview import write_overview

    with pytest.raises(PipelineError, match=r"overview's figures .* missing.*report --force"):
        write_overview(config, Processed.read(config.processed_dir), ["GM0150"], {}, "stamp")
    assert not (config.reports_dir / "overzicht.html").exists()


def test_validate_refuses_processed_data_built_from_another_raw_snapshot(config, capsys):
    record = json.loads(cache.build_lock(config).path.read_text())
    record["deps"]["raw"] = "0" * 64
    cache.build_lock(config).path.write_text(json.dumps(record))
    code, err = _main(["validate", "--config", str(config.path)], capsys)
    assert code == 2 and "run `python -m pipeline build`" in _one_line_error(err)


def test_make_clean_removes_the_cache_records(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in ("reports/.cache/GM0150.json", "reports/.run.lock", "reports/overzicht/spreiding.png",
                 "reports/index.html", "data/processed/.build.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["make", "--no-print-directory", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["Makefile", "data",
                                                                                       "reports"]


def test_temporary_files_of_a_killed_writer_are_removed_under_the_run_lock(tmp_path):
    (tmp_path / "cases").mkdir()
    leftovers = [tmp_path / ".index.html.a1b2c3d4", tmp_path / "cases" / ".figuur1.png.zz9_x0y1.png"]
    kept = [tmp_path / ".build.json", tmp_path / "index.html", tmp_path / ".gitkeep"]
    for path in leftovers + kept:
        path.write_text("x")
    with cache.run_lock(tmp_path):
        pass
    assert [p.exists() for p in leftovers] == [False, False] and all(p.exists() for p in kept)


# ---------------------------------------------------------------------------------------------
# 4, 5 and kill -9: end to end in a copy of the repository

COPIED = ["pipeline", "notebooks", "config", "data/raw", "data/external", "requirements.lock", "pyproject.toml"]
IGNORED = re.compile(r"^(\.cache/|\.run\.lock$)")


def _copy_repository(target: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _env(repo: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "JUPYTER_RUNTIME"))}
    env.update(PYTHONPATH=str(repo), SOURCE_DATE_EPOCH=EPOCH, PYTHONDONTWRITEBYTECODE="1")
    return env


def _pipeline(repo: Path, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=repo, env=_env(repo),
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def _outputs(repo: Path) -> dict[str, str]:
    """Every output file (reports and processed data): sha256, except the timing metadata of notebooks."""
    found = {}
    for folder in (repo / "reports", repo / "data" / "processed"):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(repo).as_posix()
            if IGNORED.match(path.relative_to(folder).as_posix()):
                continue
            data = path.read_bytes().replace(str(repo).encode(), b"<repo>")  # papermill's parameters
            if path.suffix == ".ipynb":
                nb = json.loads(data)
                nb["metadata"].pop("papermill", None)
                for cell in nb["cells"]:
                    if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                        cell["source"], cell["id"] = "", ""  # paths of whichever copy ran it; papermill's random id
                    cell.get("metadata", {}).pop("papermill", None)
                    cell.get("metadata", {}).pop("execution", None)
                data = json.dumps(nb, sort_keys=True).encode()
            found[name] = hashlib.sha256(data).hexdigest()
    return found


def _leftovers(repo: Path) -> list[str]:
    """Temporary files in the copy (atomic writes, staging folders, a run's tmp folder)."""
    pattern = cache._TEMPORARY
    found = [p.relative_to(repo).as_posix() for p in repo.rglob(".*")
             if p.name != cache.RUN_LOCK and (pattern.match(p.name) or ".new-" in p.name or ".old-" in p.name)]
    tmp = repo / "reports" / ".cache" / "tmp"
    return found + ([f"{tmp}: {sorted(os.listdir(tmp))}"] if tmp.exists() and os.listdir(tmp) else [])


def _processes_of(repo: Path) -> list[str]:
    """Live processes (kernels, workers) started from this copy: their environment names it."""
    mine = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            if f"PYTHONPATH={repo}".encode() + b"\0" in environ + b"\0":
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")[:120]
                mine.append(f"{proc.name}: {command!r}")
        except OSError:
            continue
    return mine


def _wait_gone(repo: Path, seconds: float = 20) -> list[str]:
    deadline = time.monotonic() + seconds
    while (alive := _processes_of(repo)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A repository copy after one clean ``all`` of two cases: the outputs every rerun must reproduce."""
    repo = _copy_repository(tmp_path_factory.mktemp("clean") / "repo")
    started = time.monotonic()
    _pipeline(repo, "all", *CASES)
    return repo, _outputs(repo), time.monotonic() - started


def test_a_copied_repository_is_up_to_date(clean, tmp_path):
    repo, expected, _ = clean
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    result = _pipeline(copy, "all", *CASES)
    assert "build: up to date" in result.stderr and "2 up to date" in result.stderr
    assert "report: up to date" in result.stderr
    assert _outputs(copy) == expected


@pytest.mark.slow
def test_deleted_or_edited_outputs_are_rebuilt_and_the_index_links_every_run_case(clean, tmp_path):
    repo, expected, _ = clean
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    reports = copy / "reports"
    (reports / "style.css").write_text("/* kapot */")
    (reports / "overzicht.html").write_text("kapot")
    (reports / "overzicht" / "spreiding.png").unlink()
    result = _pipeline(copy, "all", *CASES)
    assert "report: up to date" not in result.stderr
    assert _outputs(copy) == expected
    # a case run on its own is linked by the next `report`, without --force
    _pipeline(copy, "run", "--case", "Haarlem")
    _pipeline(copy, "report", *CASES)
    index = (reports / "index.html").read_text()
    assert 'href="GM0392.html"' in index and (reports / "GM0392.html").exists()


def test_report_without_run_marks_a_stale_case_on_the_index_and_on_its_own_page(clean, tmp_path):
    """The config changed after the run and only ``report`` runs: nothing may look current."""
    repo, _, _ = clean
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    study = copy / "config" / "study.yml"
    study.write_text(study.read_text(encoding="utf-8") + "\n# a later edit\n", encoding="utf-8")
    _pipeline(copy, "build")
    _pipeline(copy, "report", *CASES)
    code = "GM0150"
    index = (copy / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'data-state="stale">verouderd' in index and 'data-state="ok"' not in index
    page = (copy / "reports" / f"{code}.html").read_text(encoding="utf-8")
    assert "<strong>Verouderd:</strong>" in page and f"run --case {code}" in page
    _pipeline(copy, "all", *CASES)    # running the cases makes them current again
    assert "<strong>Verouderd:</strong>" not in (copy / "reports" / f"{code}.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_kill_9_at_random_points_then_a_rerun_gives_the_clean_outputs(clean, tmp_path):
    """``all --force`` killed with SIGKILL (five kills: the first right after its first case finished,
    the others at random moments, fixed seed); after each, the next ``all`` resumes (a finished case
    is not run again), leaves no process or temporary file, and gives the clean run's outputs byte for byte."""
    repo, expected, clean_seconds = clean
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    rng = random.Random(15)
    for kill in range(5):
        delay = None if kill == 0 else rng.uniform(0.3, max(1.0, clean_seconds * 0.7))
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "all", "--force", *CASES, "--jobs", "1"],
                                   cwd=copy, env=_env(copy), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        if delay is None:  # right after the first case finished: its lock must survive
            while "[1/2]" not in (line := process.stderr.readline()):
                assert line or process.poll() is None, "the run ended before its first case"
            os.kill(process.pid, signal.SIGKILL)
        else:
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        assert _wait_gone(copy) == [], f"kill {kill}: processes left"   # kernels end with their parent
        rerun = _pipeline(copy, "all", *CASES)
        if delay is None:
            # the first case is not run again; the second one is run again unless the kill came before its
            # child had started (then its outputs and lock of the clean run are untouched, and current)
            assert re.search(r"\b(1 up to date, 1 executed|2 up to date)\b", rerun.stderr), rerun.stderr
        assert _outputs(copy) == expected, f"kill {kill} after {delay or 0:.1f} s"
        assert _leftovers(copy) == [], f"kill {kill}"
        assert _wait_gone(copy) == []
