"""Where every number came from: the CBS tables of the snapshot, the code version, the packages."""

from __future__ import annotations

import html
import subprocess
from importlib import metadata

from . import __version__
from .config import ROOT

PACKAGES = ("cbsodata", "pandas", "matplotlib", "papermill", "nbconvert")
DEMO_BANNER = "Demo snapshot — geen CBS-data; draai `make fetch` met internettoegang voor echte cijfers."


def demo_banner_html() -> str:
    """The banner every page shows while the snapshot's manifests mark tables as generated."""
    return f'<div class="banner" role="alert"><strong>{html.escape(DEMO_BANNER)}</strong></div>'



def code_version() -> str:
    """``pipeline <version>, commit <sha>`` (``+ local changes`` when the work tree differs)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"pipeline {__version__}, commit {sha}" + (" + lokale wijzigingen" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"pipeline {__version__} (geen git)"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "?"
    return versions


def provenance_rows(provenance: dict) -> list[dict]:
    return [{"role": role, **entry} for role, entry in provenance.items()]
