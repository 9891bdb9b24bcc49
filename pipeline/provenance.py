"""Where every number came from: the CBS tables of the snapshot, the code version, the packages."""

from __future__ import annotations

import csv
import html
import json
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__
from .config import ROOT

PACKAGES = ("cbsodata", "pandas", "matplotlib", "papermill", "nbconvert")
DEMO_BANNER = ("Demo-snapshot — deels echte CBS-cijfers, deels gegenereerd. Gegenereerde cijfers staan grijs en "
               "cursief; draai `make fetch` met internettoegang voor alleen echte CBS-cijfers.")
KIND_LABELS = {"cbs": "CBS", "afgeleid": "afgeleid uit CBS", "gegenereerd": "gegenereerd (demo)"}


def demo_banner_html() -> str:
    """The banner every page shows while the snapshot's manifests mark tables as generated."""
    return f'<div class="banner" role="alert"><strong>{html.escape(DEMO_BANNER)}</strong></div>'



def read_provenance(processed_dir: Path) -> dict:
    """The tables of ``provenance.json``: per role (Iv3: per year) id, version, dates, hash, provenance blocks."""
    return _read_build(processed_dir)["tables"]


def read_build_warnings(processed_dir: Path) -> list[str]:
    """The build's warnings (suppressed or absent values), one line each."""
    return _read_build(processed_dir).get("warnings", [])


def _read_build(processed_dir: Path) -> dict:
    return json.loads((processed_dir / "provenance.json").read_text(encoding="utf-8"))


def table_kinds(entry: dict) -> list[str]:
    """The provenance kinds a table's rows have (its default and every block), in order cbs, afgeleid, gegenereerd."""
    prov = entry.get("provenance") or {"default": "gegenereerd" if entry.get("generated") else "cbs", "blocks": []}
    kinds = {prov.get("default", "cbs"), *(b["kind"] for b in prov.get("blocks", []))}
    return [k for k in KIND_LABELS if k in kinds]


def kind_label(entry: dict) -> str:
    """'CBS', 'CBS + gegenereerd (demo)', ...: what a table's values are."""
    return " + ".join(KIND_LABELS[k] for k in table_kinds(entry))


def is_generated(provenance: dict) -> bool:
    """Whether any table behind the numbers is generated (the demo snapshot) instead of CBS's."""
    return any(entry.get("generated") for entry in provenance.values())


def read_names(processed_dir: Path) -> dict[str, str]:
    """Municipality names by code from ``gemeenten.csv``, with the csv module: pages that only need names
    need no pandas."""
    with open(processed_dir / "gemeenten.csv", encoding="utf-8", newline="") as handle:
        return {row["code"]: row["naam"] for row in csv.DictReader(handle)}


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


def _date_cell(stamp: str | None) -> str:
    """The date of an ISO timestamp, with the full timestamp as tooltip."""
    stamp = stamp or ""
    return f'<td title="{html.escape(stamp)}">{html.escape(stamp[:10])}</td>'


def sources_table_html(provenance: dict) -> str:
    """The CBS tables behind the numbers: role, id, title, version, fetch date, CBS or generated, snapshot hash."""
    rows = "".join(
        f"<tr><td>{html.escape(r['role'])}</td><td>{html.escape(r['table_id'])}</td>"
        f"<td>{html.escape(r.get('title') or '')}</td>{_date_cell(r.get('modified'))}{_date_cell(r.get('fetched_at'))}"
        f"<td>{html.escape(kind_label(r))}</td>"
        f"<td><code title=\"{r['snapshot_sha256']}\">{r['snapshot_sha256'][:12]}</code></td></tr>"
        for r in provenance_rows(provenance))
    return ('<table class="h6-table text"><thead><tr><th>rol</th><th>tabel</th><th>titel</th><th>versie (Modified)</th>'
            f"<th>opgehaald</th><th>soort</th><th>snapshot (sha256)</th></tr></thead><tbody>{rows}</tbody></table>")


def versions_line() -> str:
    """'Code: pipeline 0.1.0, commit ... Pakketten: ...' for the foot of every page."""
    packages = ", ".join(f"{k} {v}" for k, v in package_versions().items())
    return f"<p>Code: {html.escape(code_version())}. Pakketten: {html.escape(packages)}.</p>"
