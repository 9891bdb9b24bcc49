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


def test_a_missing_measure_or_category_is_named(tmp_path):
    def drop(raw):
        del raw["tables"]["jeugdzorg"]["measures"]["relatief"]
    with pytest.raises(ConfigError, match=r"tables\.jeugdzorg\.measures: missing measure 'relatief'"):
        load_config(edited(tmp_path, drop))

    def drop_form(raw):
        del raw["tables"]["jeugdzorg"]["categories"]["VormenVanJeugdzorg"]["zonder_verblijf"]
    with pytest.raises(ConfigError, match=r"categories\.VormenVanJeugdzorg: missing category 'zonder_verblijf'"):
        load_config(edited(tmp_path, drop_form))


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["cases"][0].update(colour="red"), r"cases\[0\]\.colour: unknown field"),
    (lambda raw: raw["periods"].update(jeugdzorg_users_year=2019), r"periods\.jeugdzorg_users_year: unknown field"),
    (lambda raw: raw["cases"][0].update(figure="een"), r"cases\[0\]\.figure: 'een' is invalid"),
    (lambda raw: raw["periods"]["jeugdhulp_base"].update(half=3), r"periods\.jeugdhulp_base\.half: 3 is not allowed"),
    (lambda raw: raw["periods"].update(iv3_rekening_year="2019a"), r"periods\.iv3_rekening_year: '2019a' is invalid"),
    (lambda raw: raw["cases"][0].update(code="GM150"), r"cases\[0\]\.code: 'GM150' is not a CBS code"),
    (lambda raw: raw["cases"][0]["references"].append("GM0150"), r"GM0150 is listed as its own reference"),
    (lambda raw: raw["tables"]["iv3"]["categories"]["TaakveldBalanspost"]["maatwerk_18min"].update(key=6.72),
     r"TaakveldBalanspost\.maatwerk_18min\.key: 6\.72 is invalid"),
    (lambda raw: raw["tables"]["jeugdzorg"]["categories"]["VormenVanJeugdzorg"].update(zonder_verblijf={}),
     r"zonder_verblijf: needs a key, a title or a key_prefix"),
    (lambda raw: raw["tables"]["iv3"]["per_year"].update(title="Gemeenten onbewerkte Iv3-data"),
     r"per_year\.title: .* has no \{year\}"),
    (lambda raw: raw["tables"]["jeugdzorg"].update(per_year={"title": "x {year}"}),
     r"tables\.jeugdzorg: needs either table_id or per_year"),
    (lambda raw: raw["choices"].update(inkomen_populatie="alle"),
     r"choices\.inkomen_populatie: 'alle' is not a category .* use one of .*incl_studenten"),
    (lambda raw: raw["tables"]["inkomen"].update(successors=["86000NED"]),
     r"tables\.inkomen\.successors: successor tables are supported for the jeugdzorg role"),
    (lambda raw: raw["tables"]["iv3"].update(successors=["45050NED"]),
     r"tables\.iv3: successors chain tables with one id"),
    (lambda raw: raw["choices"].update(lasten_per_inwoner_groep="mediaan"),
     r"choices\.lasten_per_inwoner_groep: 'mediaan' is not allowed"),
])
def test_the_schema_rejects_what_would_silently_do_nothing_or_the_wrong_thing(tmp_path, edit, message):
    with pytest.raises(ConfigError, match=message):
        load_config(edited(tmp_path, edit))


def test_per_year_tables_take_their_years_from_the_periods():
    config = load_config()
    assert config.iv3_years() == [2017, 2019]
    assert config.table_dir("iv3", 2019).name == "45046NED"
    spec = config.tables["iv3"].categories["Verslagsoort"]["jaarrekening"].for_year(2019)
    assert spec.key == "2019X005"


def test_a_missing_file_and_broken_yaml_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("cases: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
