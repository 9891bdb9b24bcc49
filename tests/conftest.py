"""Shared fixtures: a study config pointing at temporary folders, and the bundled snapshot built once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.build.processed_data import build_all
from pipeline.config import DEFAULT_CONFIG, ROOT, load_config

SHARED = ROOT.parent / "shared" / "data"


def write_config(tmp: Path, raw: Path | None = None, **changes) -> Path:
    """A copy of config/study.yml with data and reports in ``tmp`` (raw defaults to the bundled snapshot)."""
    raw_config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw_config["paths"] = {"raw": str(raw or ROOT / "data" / "raw"), "processed": str(tmp / "processed"),
                           "reports": str(tmp / "reports")}
    raw_config.update(changes)
    path = tmp / "study.yml"
    path.write_text(yaml.safe_dump(raw_config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The bundled snapshot built into a temporary processed folder, once per test session."""
    tmp = tmp_path_factory.mktemp("built")
    config = load_config(write_config(tmp))
    build_all(config)
    return config


@pytest.fixture
def raw_copy(tmp_path):
    """A writable copy of the bundled raw snapshot."""
    target = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw", target)
    return target


@pytest.fixture(scope="session")
def rendered(built):
    """All five cases run and rendered into the session's temporary reports folder, once."""
    from pipeline.workflow import render_reports, run_cases
    from pipeline.config import WORKBOOK_NAME

    reports = built.reports_dir
    if not all((reports / f"{c.code}.html").exists() for c in built.cases) or not (reports / WORKBOOK_NAME).exists():
        run_cases(built)
        render_reports(built)
    return built


# Tests that build the bundled snapshot, run notebooks or start the whole pipeline are the slow tier:
# `make test-fast` (pytest -m "not slow") leaves them out for the edit loop; `make test` runs everything.
SLOW_FIXTURES = {"built", "rendered", "raw_copy", "clean", "runner", "visits"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
