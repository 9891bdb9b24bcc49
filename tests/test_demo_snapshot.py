"""The bundled demo snapshot is reproducible: regenerating it gives the committed bytes."""

import filecmp

import pytest

from pipeline.config import ROOT, load_config
from pipeline.demo import write_demo_snapshot
from pipeline.snapshot import read_manifest

from conftest import SHARED, write_config


@pytest.mark.skipif(not (SHARED / "cbs" / "03759ned").exists(), reason="needs ../shared/data (real CBS captures)")
def test_regenerating_the_demo_snapshot_gives_the_committed_files(tmp_path):
    raw = tmp_path / "raw"
    config = load_config(write_config(tmp_path, raw=raw))
    write_demo_snapshot(config, shared=SHARED)
    committed = ROOT / "data" / "raw"
    for table in ("03759ned", "84134NED", "84866NED", "84868NED", "Iv3Taakvelden", "regions"):
        comparison = filecmp.dircmp(raw / table, committed / table)
        assert not comparison.diff_files and not comparison.left_only and not comparison.right_only, table
        for name in comparison.common_files:
            assert filecmp.cmp(raw / table / name, committed / table / name, shallow=False), f"{table}/{name}"


def test_generated_tables_are_labelled_and_real_ones_are_not():
    raw = ROOT / "data" / "raw"
    assert read_manifest(raw / "84134NED")["generated"] is True
    assert "not CBS" in read_manifest(raw / "84134NED")["banner"]
    assert read_manifest(raw / "03759ned")["generated"] is False
    assert "real CBS data" in read_manifest(raw / "03759ned")["source"]
