"""Where every number came from: the CBS tables of the snapshot, the code version, the packages."""

from __future__ import annotations

import html
import re
import subprocess
from functools import lru_cache
from importlib import metadata

from pipeline import __version__
from pipeline.config import ROOT

PACKAGES = ("cbsodata", "pandas", "matplotlib", "papermill", "nbconvert")
DEMO_BANNER = ("Demo-snapshot — deels echte CBS-cijfers, deels gegenereerde demo-waarden (gekalibreerd op het "
               "gedrukte rapport). Gegenereerde cijfers staan grijs en cursief, uit CBS-cijfers afgeleide cijfers "
               "met een stippellijn; de Bronnen zeggen per tabel wat echt is. Draai `make fetch` met "
               "internettoegang voor alleen echte CBS-cijfers.")
KIND_LABELS = {"cbs": "CBS", "afgeleid": "afgeleid uit CBS", "gegenereerd": "gegenereerd (demo)"}


def demo_banner_html() -> str:
    """The banner every page shows while the snapshot's manifests mark tables as generated."""
    return f'<div class="banner" role="alert"><strong>{html.escape(DEMO_BANNER)}</strong></div>'



def table_kinds(entry: dict) -> list[str]:
    """The provenance kinds a table's rows have (its default and every block), in order cbs, afgeleid, gegenereerd."""
    prov = entry.get("provenance") or {"default": "gegenereerd" if entry.get("generated") else "cbs", "blocks": []}
    blocks = prov.get("blocks", [])
    covered = any(not b.get("where") for b in blocks)  # a block without conditions matches every row
    kinds = {*([] if covered else [prov.get("default", "cbs")]), *(b["kind"] for b in blocks)}
    return [k for k in KIND_LABELS if k in kinds]


def kind_label(entry: dict) -> str:
    """'CBS', 'CBS + gegenereerd (demo)', ...: what a table's values are."""
    return " + ".join(KIND_LABELS[k] for k in table_kinds(entry))


@lru_cache(maxsize=1)  # two git commands: asked once per process (the workflow asks before it forks)
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


@lru_cache(maxsize=1)
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


KIND_CLASS = {"cbs": "", "afgeleid": "kind-afgeleid", "gegenereerd": "kind-gegenereerd"}


def where_text(where: dict) -> str:
    """A block's ``where`` for readers: 'VormenVanJeugdzorg JH121, JH1211; Perioden 2018HJ01, ...' ('alle rijen')."""
    if not where:
        return "alle rijen"
    return "; ".join(f"{dimension} {', '.join(str(k) for k in keys)}" for dimension, keys in where.items())


def blocks_html(entry: dict) -> str:
    """A table's provenance blocks as a list: kind, which rows, and the note (how derived, what generated)."""
    prov = entry.get("provenance") or {}
    blocks = prov.get("blocks", [])
    default = prov.get("default", "gegenereerd" if entry.get("generated") else "cbs")
    items = "".join(
        f'<li><span class="{KIND_CLASS.get(b["kind"], "")}">{html.escape(KIND_LABELS.get(b["kind"], b["kind"]))}'
        f"</span> — {html.escape(where_text(b.get('where') or {}))}"
        + (f"<br><span class=\"block-note\" lang=\"en\">{html.escape(b['note'])}</span>" if b.get("note") else "")
        + "</li>" for b in blocks)
    rest = (f"<li>{'overige rijen' if blocks else 'alle rijen'}: {html.escape(KIND_LABELS.get(default, default))}"
            "</li>") if not blocks or all(b.get("where") for b in blocks) else ""
    return f'<ul class="blocks">{items}{rest}</ul>'


def kinds_html(entry: dict) -> str:
    """The kinds of a table, each marked as in the tables ('CBS + <i>gegenereerd (demo)</i>')."""
    return " + ".join(f'<span class="{KIND_CLASS[k]}">{html.escape(KIND_LABELS[k])}</span>' if KIND_CLASS[k]
                      else html.escape(KIND_LABELS[k]) for k in table_kinds(entry))


SOURCES_NOTE = ('<p class="note">Herkomst: <em>CBS</em> = zoals gepubliceerd in de tabel; <em>afgeleid uit CBS</em> = '
                "uit echte CBS-cijfers berekend maar niet zo gepubliceerd (andere CBS-tabel, of herleid uit de "
                "voorgangers van een fusiegemeente); <em>gegenereerd (demo)</em> = demo-waarden, gekalibreerd op het "
                "gedrukte rapport. Een berekend getal krijgt de zwakste herkomst van zijn invoer.")


def sources_table_html(provenance: dict, fold_notes: bool = True) -> str:
    """The CBS tables behind the numbers: role, id, title, version, fetch date, the kinds of its values, snapshot
    hash. ``fold_notes``: which rows are derived or generated and how, folded in the kinds cell; else the
    caller shows :func:`provenance_notes_html` below the table."""
    rows = []
    for r in provenance_rows(provenance):
        kinds = kinds_html(r)
        if fold_notes and (r.get("provenance") or {}).get("blocks"):
            kinds = f"<details><summary>{kinds}</summary>{blocks_html(r)}</details>"
        rows.append(
            f"<tr><td>{html.escape(r['role'])}</td><td>{html.escape(r['table_id'])}</td>"
            f"<td>{html.escape(r.get('title') or '')}</td>{_date_cell(r.get('modified'))}"
            f"{_date_cell(r.get('fetched_at'))}<td class=\"kinds\">{kinds}</td>"
            f"<td><code title=\"{r['snapshot_sha256']}\">{r['snapshot_sha256'][:12]}</code></td></tr>")
    note = SOURCES_NOTE + (" Klik op de herkomst voor de rijen en de toelichting (Engels, uit het manifest).</p>"
                           if fold_notes else "</p>")
    return ('<table class="h6-table text sources"><thead><tr><th>rol</th><th>tabel</th><th>titel</th>'
            "<th>versie (Modified)</th><th>opgehaald</th><th>herkomst van de waarden</th><th>snapshot (sha256)</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}")


def provenance_notes_html(provenance: dict) -> str:
    """Per CBS table with derived or generated rows: which rows, and how (the manifest's notes, in English)."""
    items = "".join(
        f"<dt>{html.escape(r['table_id'])} <span class=\"muted\">({html.escape(r['role'])}: "
        f"{html.escape(r.get('title') or '')})</span></dt><dd>{blocks_html(r)}</dd>"
        for r in provenance_rows(provenance) if (r.get("provenance") or {}).get("blocks"))
    return f'<dl class="provenance-notes">{items}</dl>' if items else ""


def warnings_for(warnings: list[dict], codes) -> list[str]:
    """The build warnings (in Dutch) that concern any of ``codes`` (the build lists every code per warning)."""
    codes = set(codes)
    out = []
    for entry in warnings:
        concerned = [(c, n) for c, n in zip(entry.get("codes", []), entry.get("names", entry.get("codes", [])))
                     if c in codes]
        if not concerned:
            continue
        if "table_id" not in entry:  # an older provenance.json: the printed line as it is
            out.append(warning_nl(entry["line"]))
            continue
        others = len(entry["codes"]) - len(concerned)
        named = ", ".join(f"{n} ({c})" for c, n in concerned)
        out.append(f"tabel {entry['table_id']}, {entry['what']}, {entry['period']}: {entry['reason']} voor {named}"
                   + (f" (en {others} andere)" if others else "") + "; leeg getoond, niet als nul")
    return out


def warning_nl(line: str) -> str:
    """A build warning in Dutch ('table 84134NED, ...: geen waarde (CBS) for X (GM..); shown as empty, not as zero')."""
    text = re.sub(r"^table ", "tabel ", line)
    text = re.sub(r" and (\d+) more", r" en \1 andere", text)
    text = text.replace("; shown as empty, not as zero", "; leeg getoond, niet als nul").replace(" for ", " voor ")
    return text


def versions_line() -> str:
    """'Code: pipeline 0.1.0, commit ... Pakketten: ...' for the foot of every page."""
    packages = ", ".join(f"{k} {v}" for k, v in package_versions().items())
    return f"<p>Code: {html.escape(code_version())}. Pakketten: {html.escape(packages)}.</p>"
