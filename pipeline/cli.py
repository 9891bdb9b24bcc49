"""``python -m pipeline``: the command line over every stage.

    fetch          CBS OData -> data/raw/<table>/ (cbsodata, retries, atomic swap)
    inspect ID     a table's TableInfos, measures and dimensions (snapshot or service)
    diff [OLD NEW] what a new CBS release changed: per table and per case cell (reports/wijzigingen.html)
    build          data/raw -> data/processed (indicators for all municipalities, once; the
                   comparison with the published report)
    run            execute the case notebook with papermill, once per case
    report         render executed notebooks to HTML and write reports/index.html
    all            build, run and report
    pdf            print the rendered reports to reports/pdf/ (headless Chromium)

Errors are one line on stderr and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import DEFAULT_CONFIG, load_config
from pipeline.errors import PipelineError


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--jobs 0`` or ``-1`` is a usage error, not a hang)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give 1 or more") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 (fractions allowed: ``--timeout 2.5``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="study config (default: config/study.yml)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _add_case_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", action="append", default=None, metavar="CODE",
                        help="run only this case: any municipality, by CBS code (GM0150) or name; repeatable. "
                             "A municipality outside Tabel 1 gets an automatic reference group")
    parser.add_argument("--all-municipalities", action="store_true",
                        help="every municipality of the snapshot's classification as a case")


def _add_execution_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=positive_int, default=None, metavar="N",
                        help="notebooks executed in parallel, each in its own child process (default: number of cores)")
    parser.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS",
                        help="fail a case that runs longer than this (default 300; the others go on)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="a new Jupyter kernel per notebook (papermill's plain engine) instead of running it in the child process")
    parser.add_argument("--force", action="store_true",
                        help="rerun every step, also those whose inputs are unchanged (content-hash cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    fetch = sub.add_parser("fetch", help="download the configured CBS tables into data/raw")
    _add_common(fetch)
    fetch.add_argument("--table", action="append", default=None, metavar="ROLE_OR_ID",
                       help="fetch only this table (config role such as jeugdzorg, or table id); repeatable")
    fetch.add_argument("--catalog-url", default=None,
                       help="override the catalog host for every table, e.g. http://127.0.0.1:8000 "
                            "(env CBS_CATALOG_URL)")
    fetch.add_argument("--timeout", type=positive_seconds, default=None, help="seconds per HTTP request (default 60)")
    fetch.add_argument("--retries", type=positive_int, default=None, help="attempts per request (default 4)")
    fetch.add_argument("--api", choices=("v3", "v4"), default=None,
                       help="CBS API for every table: v3 OData feed or v4 datasets API (default: each "
                            "table's api: in the config, else v3)")
    fetch.add_argument("--no-diff", action="store_true",
                       help="do not write the release diff (reports/wijzigingen.html) after fetching")

    diff = sub.add_parser("diff", help="what changed between two snapshots of data/raw (tables, case cells)")
    _add_common(diff)
    diff.add_argument("old", nargs="?", default=None,
                      help="folder or git revision of data/raw (default: the committed snapshot, HEAD)")
    diff.add_argument("new", nargs="?", default=None,
                      help="folder or git revision of data/raw (default: the working tree)")
    diff.add_argument("--tables-only", action="store_true",
                      help="compare the tables only, not the case tables, figures and validation (no builds)")
    diff.add_argument("--summary", type=Path, default=None, metavar="FILE",
                      help="also write the terminal summary as Markdown to FILE (for a pull request body)")

    inspect = sub.add_parser("inspect", help="show a table's TableInfos, measures and dimensions")
    _add_common(inspect)
    inspect.add_argument("table_id")
    inspect.add_argument("--remote", action="store_true", help="ask the CBS service instead of the snapshot")
    inspect.add_argument("--catalog-url", default=None)

    build = sub.add_parser("build", help="compute all indicators: data/raw -> data/processed")
    _add_common(build)
    build.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")

    validate = sub.add_parser("validate", help="compare every computed chapter-6 cell with the published report")
    _add_common(validate)

    for name, help_text in (("run", "execute the case notebook per case (papermill)"),
                            ("report", "render HTML reports, the validation page and the index page"),
                            ("all", "build, run, validate and report")):
        p = sub.add_parser(name, help=help_text)
        _add_common(p)
        _add_case_args(p)
        _add_execution_args(p)
    pdf = sub.add_parser("pdf", help="print every rendered report and the whole chapter to PDF (headless Chromium)")
    _add_common(pdf)
    _add_case_args(pdf)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except PipelineError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; files already on disk are unchanged", file=sys.stderr)
        return 130
    except OSError as exc:  # an unreadable input, a read-only output folder, a full disk
        if args.debug:
            raise
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - e.g. a page step that failed: one line, --debug for the rest
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 2


def os_error_message(exc: OSError) -> str:
    """``cannot write reports/index.html: Permission denied; ...``: what, where and the fix, in one line."""
    where = exc.filename or ""
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        fix = "check the permissions of that file and its folder (or point paths: in the config elsewhere)"
    elif isinstance(exc, FileNotFoundError):
        fix = "restore it (git checkout, or run the step that writes it)"
    else:
        fix = "check the disk and the file system"
    return f"{where}: {reason}; {fix}" if where else f"{reason}; {fix}"


def _dispatch(args) -> int:
    if args.command == "fetch":
        from pipeline.workflow import fetch
        return fetch(args)
    if args.command == "inspect":
        from pipeline.data.fetch import inspect_command
        return inspect_command(args)
    if args.command == "diff":
        from pipeline.diff import diff_command
        return diff_command(args)
    config = load_config(args.config)
    started = time.perf_counter()
    if args.command == "pdf":
        from pipeline.report.exports import write_pdfs
        write_pdfs(config, args.case)
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return 0
    from pipeline.run.cache import run_lock

    # one run at a time per output folder: a second one says which process holds it
    with run_lock(config.processed_dir, args.command), run_lock(config.reports_dir, args.command), \
            _run_temp_dir(config):
        from pipeline.workflow import run_steps
        return run_steps(args, config, started)


@contextmanager
def _run_temp_dir(config):
    """This run's temporary files (with --fresh-kernels, kernel connection files among them) in ``<reports>/.cache/tmp``.

    A run killed with ``kill -9`` cannot remove them (its kernels end by themselves within a second,
    their connection files stay); the next run, holding the run lock, so sure that no live process of
    another run owns them, empties the folder first."""
    import os
    import shutil
    import tempfile

    from pipeline.run.cache import cache_dir

    folder = cache_dir(config) / "tmp"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    saved_env, saved_dir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(folder), str(folder)  # here and in kernels and workers
    try:
        yield
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(folder, ignore_errors=True)
