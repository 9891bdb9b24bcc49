"""The study config: each mistake an analyst is likely to make gets a one-line error naming the fix."""

import pytest
import yaml

from pipeline.config import DEFAULT_CONFIG, load_config
from pipeline.errors import ConfigError


def edited(tmp_path, edit):
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_bundled_config_has_the_five_cases_of_tabel_1():
    config = load_config()
    assert [c.code for c in config.cases] == ["GM0150", "GM0344", "GM0297", "GM1894", "GM1674"]
    assert all(isinstance(r, str) for c in config.cases for r in c.references)


def test_an_unquoted_code_is_rejected_with_the_quoting_fix(tmp_path):
    def unquote(raw):
        raw["cases"][0]["references"][0] = 200   # what YAML makes of GM-less 0200
    with pytest.raises(ConfigError, match=r'cases\[0\]\.references\[0\].*int.*write it quoted'):
        load_config(edited(tmp_path, unquote))


def test_an_undefined_size_class_names_the_defined_ones(tmp_path):
    def bad(raw):
        raw["cases"][1]["size_class"] = "300K+"
    with pytest.raises(ConfigError, match=r"cases\[1\]\.size_class.*'300K\+' is not defined.*20-50K"):
        load_config(edited(tmp_path, bad))


def test_a_missing_measure_is_named(tmp_path):
    def drop(raw):
        del raw["tables"]["jeugdzorg"]["measures"]["zonder_verblijf_pct"]
    with pytest.raises(ConfigError, match=r"tables\.jeugdzorg\.measures.*zonder_verblijf_pct"):
        load_config(edited(tmp_path, drop))


def test_a_missing_file_and_broken_yaml_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("cases: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
