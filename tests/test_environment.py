"""environment.yml (conda) describes the same environment as pyproject.toml and requirements.lock (pip)."""

import re
import tomllib

import yaml

from pipeline.config import ROOT


def names(requirements) -> set[str]:
    return {re.split(r"[<>=!~ ]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_conda_environment_lists_every_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = names(project["dependencies"]) | names(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = names(conda + [p for p in pip if not p.startswith("-e")]) - {"python", "pip"}
    assert declared == listed


def test_every_declared_dependency_is_pinned_in_the_lock_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = names(project["dependencies"]) | names(project["optional-dependencies"]["test"])
    locked = names(line for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    assert declared <= locked
