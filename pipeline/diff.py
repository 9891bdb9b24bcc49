"""``python -m pipeline diff [OLD] [NEW]``: what a new CBS release changed, per table and per case cell.

OLD and NEW are snapshot folders (``data/raw`` or a copy) or git revisions of ``data/raw``; the
default compares the committed snapshot (``HEAD``) with the working tree. ``fetch`` runs the same
comparison by itself after downloading anything (the snapshot before the fetch against after).

Per table (paired by table id, else by config role and year, so a successor table is compared with
its predecessor): ``Modified``, version, rows, periods added or removed, periods whose status
changed (``Voorlopig`` -> ``Definitief``), measures renumbered (same title, new key), added or
removed, and every revised value (dimension keys, measure, old, new, difference).

Per case (both sides are built into temporary folders, as ``build`` does): every cell of the case's
Tabel and every point of its Figuur that moves, and every validation status (``validation.csv``)
that changes.

Written to ``reports/wijzigingen.html`` (``templates/diff.html``, with the shared stylesheet), ``.json`` (all of
it) and ``.csv`` (one row per change); the same inputs give byte-identical files. The terminal gets
a one-screen summary; the exit code is 0 when nothing changed and 1 when something did.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import ROOT, StudyConfig, load_config
from pipeline.errors import PipelineError, SnapshotError
from pipeline.iorw import write_text
from pipeline.data.manifest import MANIFEST, snapshot_hash
from pipeline.data.snapshot import CbsTable, load_table

REPORT_NAME = "wijzigingen"
CHANGED_EXIT = 1
SUMMARY_LINES = 20          # per-table lines on the terminal before "... N more"
HTML_ROWS = 300             # revised values listed per table on the page (all are in JSON/CSV)
CSV_FIELDS = ["scope", "id", "what", "where", "old", "new", "difference"]


class DiffError(PipelineError):
    """A side of the comparison cannot be read (no such folder or revision)."""


# --- The two sides -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    label: str        # shown in the outputs: "HEAD (1a2b3c4)", "werkboom data/raw", a folder
    raw_dir: Path


def resolve_side(value: str | None, default: str, config: StudyConfig, tmp: Path) -> Side:
    """A folder, or a git revision of data/raw exported to ``tmp``; ``None`` means ``default`` (HEAD/worktree)."""
    if value is None and default == "worktree":
        return Side(f"werkboom {_relative(config.raw_dir)}", config.raw_dir)
    value = value or "HEAD"
    folder = Path(value)
    if folder.is_dir():
        return Side(_relative(folder), folder)
    return export_revision(value, config.raw_dir, tmp)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed; give OLD and NEW as folders (e.g. a copy of data/raw)") from None


def export_revision(revision: str, raw_dir: Path, tmp: Path) -> Side:
    """``data/raw`` as committed in ``revision``, written below ``tmp`` with ``git archive``."""
    raw_dir = Path(raw_dir).resolve()
    top = _git(["rev-parse", "--show-toplevel"], raw_dir if raw_dir.exists() else ROOT)
    if top.returncode != 0:
        raise DiffError(f"{revision!r} is not a folder, and {_relative(raw_dir)} is not in a git repository; "
                        f"give OLD and NEW as folders")
    root = Path(top.stdout.decode().strip())
    commit = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], root)
    if commit.returncode != 0:
        raise DiffError(f"{revision!r} is neither a folder nor a git revision; use e.g. HEAD, HEAD~1, a tag, "
                        f"or a folder with table snapshots")
    sha = commit.stdout.decode().strip()
    try:
        inside = raw_dir.relative_to(root).as_posix()
    except ValueError:
        raise DiffError(f"{_relative(raw_dir)} is outside the repository {root}; give OLD as a folder") from None
    archive = _git(["archive", "--format=tar", sha, "--", inside], root)
    if archive.returncode != 0:
        raise DiffError(f"{revision} ({sha[:7]}) has no {inside}; compare with a revision that has a snapshot")
    target = tmp / f"rev-{sha[:12]}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return Side(f"{revision} ({sha[:7]})", target / inside)


def _relative(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


# --- Tables --------------------------------------------------------------------------------------

def snapshot_dirs(raw_dir: Path) -> dict[str, Path]:
    """Table id -> snapshot folder, for every folder of ``raw_dir`` with a manifest."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DiffError(f"no snapshot folder {_relative(raw_dir)}; run `python -m pipeline fetch` first")
    return {p.parent.name: p.parent for p in sorted(raw_dir.glob(f"*/{MANIFEST}")) if not p.parent.name.startswith(".")}


def _slot(manifest: dict) -> tuple | None:
    """What a table is *for*: (role, year); a successor table fills the same slot under a new id."""
    role = manifest.get("role")
    return (role, manifest.get("year")) if role else None


def pair_tables(old: dict[str, Path], new: dict[str, Path], manifests: dict[Path, dict]) -> list[tuple]:
    """(old dir or None, new dir or None) pairs: same id first, then same (role, year), sorted by id."""
    pairs = [(old[i], new[i]) for i in sorted(set(old) & set(new))]
    only_old = {i: old[i] for i in sorted(set(old) - set(new))}
    only_new = {i: new[i] for i in sorted(set(new) - set(old))}
    for new_id, new_dir in list(only_new.items()):
        slot = _slot(manifests[new_dir])
        match = next((i for i, d in only_old.items() if slot and _slot(manifests[d]) == slot), None)
        if match is not None:
            pairs.append((only_old.pop(match), only_new.pop(new_id)))
    pairs += [(d, None) for d in only_old.values()] + [(None, d) for d in only_new.values()]
    return sorted(pairs, key=lambda p: ((p[1] or p[0]).name.lower(), (p[0] or p[1]).name.lower()))


def _title_key(text) -> str:
    return " ".join(str(text or "").casefold().split())


def measure_pairs(old: CbsTable, new: CbsTable) -> tuple[list[tuple[str, str]], list[dict], list[str], list[str]]:
    """Measures in both data sets: by key, else by title (a renumbered key); plus renamed, removed, added."""
    def present(table):
        m = table.measures()
        return {k: t for k, t in zip(m["Key"], m["Title"]) if k in table.data.columns}
    old_m, new_m = present(old), present(new)
    pairs, renamed = [], []
    unmatched_new = {k: t for k, t in new_m.items() if k not in old_m}
    for key, title in old_m.items():
        if key in new_m:
            pairs.append((key, key))
            continue
        hit = next((k for k, t in unmatched_new.items() if _title_key(t) == _title_key(title)), None)
        if hit is not None:
            pairs.append((key, hit))
            renamed.append({"old": key, "new": hit, "title": str(title).strip()})
            unmatched_new.pop(hit)
    removed = [k for k in old_m if k not in {a for a, _ in pairs}]
    return pairs, renamed, removed, sorted(unmatched_new)


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text in ("", ".", "-"):
            return None
        try:
            return float(text)
        except ValueError:
            return text
    return float(value)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def _clean(value):
    """JSON-friendly and stable: whole floats as ints, NaN as None."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else round(value, 10)
    return value


def revised_values(old: CbsTable, new: CbsTable, pairs: list[tuple[str, str]]) -> tuple[list[dict], int, int]:
    """Every cell in both snapshots whose value differs; and the counts of cells only in new / only in old."""
    dims = [d for d in old.dimensions if d in old.data.columns and d in new.data.columns]
    if not dims or not pairs:
        return [], 0, 0
    left = old.data[dims + [a for a, _ in pairs]].rename(columns={a: f"old:{a}" for a, _ in pairs})
    right = new.data[dims + list(dict.fromkeys(b for _, b in pairs))]
    right = right.rename(columns={b: f"new:{b}" for _, b in pairs})
    merged = left.merge(right, on=dims, how="outer", indicator=True, sort=True)
    added = int((merged["_merge"] == "right_only").sum())
    removed = int((merged["_merge"] == "left_only").sum())
    both = merged[merged["_merge"] == "both"]
    changes = []
    for a, b in pairs:
        for row, x, y in zip(both[dims].itertuples(index=False), both[f"old:{a}"], both[f"new:{b}"]):
            x, y = _number(x), _number(y)
            if _same(x, y):
                continue
            diff = y - x if isinstance(x, float) and isinstance(y, float) else None
            changes.append({"where": dict(zip(dims, row)), "measure": b if a == b else f"{a} -> {b}",
                            "old": _clean(x), "new": _clean(y), "difference": _clean(diff)})
    changes.sort(key=lambda c: (tuple(c["where"].values()), c["measure"]))
    return changes, added, removed


def period_changes(old: CbsTable, new: CbsTable) -> dict:
    """Period keys added and removed, and periods whose status (Voorlopig, Definitief, ...) changed."""
    def statuses(table):
        if "Perioden" not in table.dimensions:
            return {}
        frame = table.dimensions["Perioden"]
        status = frame["Status"] if "Status" in frame else pd.Series([None] * len(frame))
        return {k: (None if pd.isna(s) else str(s).strip()) for k, s in zip(frame["Key"], status)}
    a, b = statuses(old), statuses(new)
    return {"periods_added": [k for k in b if k not in a], "periods_removed": [k for k in a if k not in b],
            "status_changed": [{"period": k, "old": a[k], "new": b[k]} for k in a if k in b and a[k] != b[k]]}


def _facts(table: CbsTable | None) -> dict:
    if table is None:
        return {"table_id": None, "modified": None, "version": None, "rows": None, "api": None, "sha256": None}
    m = table.manifest
    return {"table_id": table.table_id, "modified": m.get("modified") or table.info.get("Modified"),
            "version": table.info.get("Version"), "rows": len(table.data),
            "api": m.get("api") or ("v3" if not table.generated else None), "sha256": snapshot_hash(m)[:12]}


def table_diff(old_dir: Path | None, new_dir: Path | None) -> dict:
    """Everything that differs between two snapshots of one table (or its successor)."""
    old = load_table(old_dir) if old_dir is not None else None
    new = load_table(new_dir) if new_dir is not None else None
    before, after = _facts(old), _facts(new)
    entry = {"table": after["table_id"] or before["table_id"], "role": (new or old).manifest.get("role"),
             "old": before, "new": after}
    if old is None or new is None:
        entry["status"] = "added" if old is None else "removed"
        return entry
    entry.update(period_changes(old, new))
    pairs, renamed, removed, added = measure_pairs(old, new)
    revised, cells_added, cells_removed = revised_values(old, new, pairs)
    entry.update(measures_renumbered=renamed, measures_removed=removed, measures_added=added, revised=revised,
                 cells_added=cells_added, cells_removed=cells_removed)
    if before["table_id"] != after["table_id"]:
        entry["status"] = "successor"
    elif before["sha256"] == after["sha256"]:
        entry["status"] = "unchanged"
    else:
        moved = any(entry[k] for k in ("periods_added", "periods_removed", "status_changed", "measures_renumbered",
                                       "measures_removed", "measures_added", "revised", "cells_added",
                                       "cells_removed"))
        entry["status"] = "changed" if moved or before["modified"] != after["modified"] else "metadata"
    return entry


def table_diffs(old_raw: Path, new_raw: Path) -> list[dict]:
    old, new = snapshot_dirs(old_raw), snapshot_dirs(new_raw)
    manifests = {}
    for directory in list(old.values()) + list(new.values()):
        try:
            manifests[directory] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"{directory / MANIFEST} is unreadable ({exc}); restore it from git") from None
    return [table_diff(a, b) for a, b in pair_tables(old, new, manifests)]


# --- Cases ---------------------------------------------------------------------------------------

def build_side(config: StudyConfig, raw_dir: Path, work: Path) -> StudyConfig:
    """``build`` and the validation of one side into ``work/processed`` (its output on stdout suppressed)."""
    from pipeline.build.processed_data import build_all
    from pipeline.check.validate import validate

    side = dataclasses.replace(config, raw_dir=Path(raw_dir), processed_dir=work / "processed",
                               reports_dir=work / "reports")
    with contextlib.redirect_stdout(io.StringIO()):
        build_all(side)
        validate(side)
    return side


def case_cells(config: StudyConfig) -> dict[tuple, float | None]:
    """(case, "Tabel N" / "Figuur N", row, column) -> value, for every case table cell and figure point."""
    from pipeline.case.tables import CaseContext, case_tables, index_series, value_columns
    from pipeline.processed import Processed

    data = Processed.read(config.processed_dir)
    cells = {}
    for number, _kind, ctx, table in case_tables(config, data):
        for _, row in table.iterrows():
            for column in value_columns(table):
                cells[(ctx.case.code, f"Tabel {number}", f"{row['rij_code']} {row['rij_label']}", column)] = \
                    _clean(_number(row[column]))
    for case in config.cases:
        if not case.figure:
            continue
        series = index_series(CaseContext(config=config, case=case, data=data))
        for period, row in series.iterrows():
            for code, value in row.items():
                cells[(case.code, f"Figuur {case.figure}", str(period).rstrip("*"), code)] = _clean(_number(value))
    return cells


def validation_statuses(config: StudyConfig) -> dict[tuple, str]:
    path = config.processed_dir / "validation.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {(r.tabel, r.rij_code, r.kolom): r.status for r in frame.itertuples()}


def case_diff(config: StudyConfig, old_raw: Path, new_raw: Path, work: Path) -> dict:
    """Moved cells and changed validation statuses; ``error`` when a side cannot be built."""
    try:
        old = build_side(config, old_raw, work / "old")
        new = build_side(config, new_raw, work / "new")
        a, b = case_cells(old), case_cells(new)
        va, vb = validation_statuses(old), validation_statuses(new)
    except PipelineError as exc:
        return {"error": str(exc), "cells": [], "validation": []}
    cells = []
    for key in sorted(set(a) | set(b), key=lambda k: tuple(str(x) for x in k)):
        x, y = a.get(key), b.get(key)
        if _same(x, y):
            continue
        diff = y - x if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None
        cells.append({"case": key[0], "table": key[1], "row": key[2], "column": key[3],
                      "old": x, "new": y, "difference": _clean(float(diff)) if diff is not None else None})
    validation = [{"table": k[0], "row": k[1], "column": k[2], "old": va.get(k), "new": vb.get(k)}
                  for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)]
    return {"error": None, "cells": cells, "validation": validation}


# --- The whole comparison ------------------------------------------------------------------------

@dataclass
class Diff:
    old: str
    new: str
    tables: list[dict]
    cases: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        tables = any(t["status"] != "unchanged" for t in self.tables)
        cases = bool(self.cases and (self.cases["cells"] or self.cases["validation"]))
        return tables or cases

    def as_json(self) -> dict:
        return {"old": self.old, "new": self.new, "changed": self.changed, "tables": self.tables,
                "cases": self.cases, "notes": self.notes}


def compare(config: StudyConfig, old: Side, new: Side, work: Path, cases: bool = True) -> Diff:
    tables = table_diffs(old.raw_dir, new.raw_dir)
    result = Diff(old.label, new.label, tables)
    if cases and any(t["status"] != "unchanged" for t in tables):
        result.cases = case_diff(config, old.raw_dir, new.raw_dir, work)
        if result.cases["error"]:
            result.notes.append(f"case tables not compared: {result.cases['error']}")
    elif cases:
        result.cases = {"error": None, "cells": [], "validation": []}
    return result


# --- Outputs -------------------------------------------------------------------------------------

def _where(where: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in where.items())


def table_line(t: dict) -> str:
    """One terminal line per table."""
    name = t["table"] if t["old"]["table_id"] in (None, t["table"]) else f"{t['old']['table_id']} -> {t['table']}"
    if t["status"] in ("added", "removed"):
        return f"{name}: {t['status']}"
    if t["status"] == "unchanged":
        return f"{name}: unchanged"
    parts = []
    if t["old"]["modified"] != t["new"]["modified"]:
        parts.append(f"Modified {t['old']['modified']} -> {t['new']['modified']}")
    if t["old"]["rows"] != t["new"]["rows"]:
        parts.append(f"rows {t['old']['rows']} -> {t['new']['rows']}")
    if t["periods_added"]:
        parts.append("+" + " +".join(t["periods_added"]))
    if t["periods_removed"]:
        parts.append("-" + " -".join(t["periods_removed"]))
    for s in t["status_changed"]:
        parts.append(f"{s['period']} {s['old']} -> {s['new']}")
    for m in t["measures_renumbered"]:
        parts.append(f"measure {m['old']} -> {m['new']} ({m['title']})")
    if t["revised"]:
        parts.append(f"{len(t['revised'])} values revised")
    if t["status"] == "successor":
        parts.insert(0, "successor table")
    return f"{name}: " + ("; ".join(parts) or "metadata or files changed")


def summary_lines(diff: Diff, written: Path | None = None) -> list[str]:
    lines = [f"diff {diff.old} -> {diff.new}"]
    changed = [t for t in diff.tables if t["status"] != "unchanged"]
    unchanged = len(diff.tables) - len(changed)
    for t in changed[:SUMMARY_LINES]:
        lines.append("  " + table_line(t))
    if len(changed) > SUMMARY_LINES:
        lines.append(f"  ... {len(changed) - SUMMARY_LINES} more changed tables")
    lines.append(f"  {unchanged} table(s) unchanged")
    if diff.cases is not None and not diff.cases["error"]:
        per_case: dict[str, dict[str, list[int]]] = {}
        for c in diff.cases["cells"]:
            counts = per_case.setdefault(c["case"], {}).setdefault(c["table"], [0, 0])
            counts[0 if c["old"] is not None and c["new"] is not None else 1] += 1
        for case, tables in sorted(per_case.items()):
            lines.append(f"  {case}: " + ", ".join(
                f"{t}: {moved} cell(s) move" + (f", {new} new or gone" if new else "")
                for t, (moved, new) in sorted(tables.items())))
        if diff.cases["validation"]:
            first = diff.cases["validation"][0]
            lines.append(f"  validation: {len(diff.cases['validation'])} status(es) change, e.g. Tabel "
                         f"{first['table']} {first['row']} {first['column']}: {first['old']} -> {first['new']}")
        elif not per_case:
            lines.append("  case tables, figures and validation: no cell moves")
    for note in diff.notes:
        lines.append(f"  note: {note}")
    if written is not None:
        lines.append(f"  -> {_relative(written)} (.json, .csv)")
    lines.append("changed" if diff.changed else "nothing changed")
    return lines


def csv_rows(diff: Diff) -> list[list]:
    rows = []
    for t in diff.tables:
        if t["status"] == "unchanged":
            continue
        tid = t["table"]
        rows.append(["table", tid, t["status"], "", t["old"]["table_id"], t["new"]["table_id"], ""])
        for label in ("modified", "version", "rows", "api"):
            if t["old"][label] != t["new"][label]:
                rows.append(["table", tid, label, "", t["old"][label], t["new"][label], ""])
        for p in t.get("periods_added", []):
            rows.append(["table", tid, "period added", p, "", p, ""])
        for p in t.get("periods_removed", []):
            rows.append(["table", tid, "period removed", p, p, "", ""])
        for s in t.get("status_changed", []):
            rows.append(["table", tid, "period status", s["period"], s["old"], s["new"], ""])
        for m in t.get("measures_renumbered", []):
            rows.append(["table", tid, "measure renumbered", m["title"], m["old"], m["new"], ""])
        for c in t.get("revised", []):
            rows.append(["table", tid, "value revised", f"{_where(c['where'])}, {c['measure']}", c["old"], c["new"],
                         c["difference"]])
    for c in (diff.cases or {}).get("cells", []):
        rows.append(["case", c["case"], f"{c['table']} cell", f"{c['row']} | {c['column']}", c["old"], c["new"],
                     c["difference"]])
    for v in (diff.cases or {}).get("validation", []):
        rows.append(["validation", f"Tabel {v['table']}", "status", f"{v['row']} | {v['column']}", v["old"], v["new"],
                     ""])
    return [["" if x is None else x for x in row] for row in rows]


def csv_text(diff: Diff) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows(csv_rows(diff))
    return out.getvalue()


def table_view(t: dict) -> dict:
    """One changed table as ``diff.html`` shows it: the table's entry with its line, facts and revised rows."""
    facts = [[label, t["old"][key], t["new"][key]] for key, label in
             (("table_id", "tabel"), ("modified", "Modified"), ("version", "versie"), ("rows", "rijen"),
              ("api", "API"), ("sha256", "inhoud (sha256)"))]
    revised = [[_where(c["where"]), c["measure"], c["old"], c["new"], c["difference"]]
               for c in t.get("revised", [])[:HTML_ROWS]]
    return {**t, "line": table_line(t), "facts": facts, "revised_rows": revised}


def html_page(diff: Diff) -> str:
    """``reports/wijzigingen.html``: the summary, every changed table, the case cells and validation statuses."""
    from pipeline.report.render import shell
    from pipeline.report.templates import render

    cases = diff.cases
    return render("diff.html", **shell("Wijzigingen in de CBS-gegevens", generated=False,
                                       stamp=f"uit {diff.old} → {diff.new}"),
                  name=REPORT_NAME, html_rows=HTML_ROWS, old=diff.old, new=diff.new, changed=diff.changed,
                  summary="\n".join(summary_lines(diff)),
                  tables=[table_view(t) for t in diff.tables if t["status"] != "unchanged"],
                  unchanged=[t["table"] for t in diff.tables if t["status"] == "unchanged"], cases=cases,
                  cell_rows=[[c["case"], c["table"], c["row"], c["column"], c["old"], c["new"], c["difference"]]
                             for c in (cases or {}).get("cells") or []],
                  validation_rows=[[f"Tabel {v['table']}", v["row"], v["column"], v["old"], v["new"]]
                                   for v in (cases or {}).get("validation") or []],
                  notes=diff.notes)


def write_outputs(diff: Diff, reports_dir: Path) -> Path:
    """reports/wijzigingen.html, .json and .csv (atomic, byte-identical for the same diff); the HTML path."""
    from pipeline.report.render import STYLESHEET

    reports_dir = Path(reports_dir)
    write_text(reports_dir / f"{REPORT_NAME}.json",
               json.dumps(diff.as_json(), indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    write_text(reports_dir / f"{REPORT_NAME}.csv", csv_text(diff))
    if not (reports_dir / "style.css").exists():
        write_text(reports_dir / "style.css", STYLESHEET.read_text(encoding="utf-8"))
    html_path = reports_dir / f"{REPORT_NAME}.html"
    write_text(html_path, html_page(diff))
    return html_path


def markdown_summary(diff: Diff) -> str:
    """The summary for a pull request body."""
    return ("### What changed in the CBS data\n\n```\n" + "\n".join(summary_lines(diff)) + "\n```\n\n"
            f"Every revised value: `reports/{REPORT_NAME}.html` (.csv, .json) in the artifact \"reports-cbs\" "
            "of this workflow run; review the changed tables before merging.\n")


# --- Commands ------------------------------------------------------------------------------------

def run_diff(config: StudyConfig, old: str | None, new: str | None, cases: bool = True,
             old_label: str | None = None) -> tuple[Diff, Path]:
    """Compare, write reports/wijzigingen.*; ``old_label`` names a temporary OLD folder in the outputs."""
    with tempfile.TemporaryDirectory(prefix="h6-diff-") as tmp:
        work = Path(tmp)
        old_side = resolve_side(old, "HEAD", config, work)
        if old_label:
            old_side = Side(old_label, old_side.raw_dir)
        new_side = resolve_side(new, "worktree", config, work)
        diff = compare(config, old_side, new_side, work, cases=cases)
    return diff, write_outputs(diff, config.reports_dir)


def diff_command(args) -> int:
    """``python -m pipeline diff [OLD] [NEW]``: exit 0 when nothing changed, 1 when something did."""
    config = load_config(args.config)
    diff, written = run_diff(config, args.old, args.new, cases=not args.tables_only)
    for line in summary_lines(diff, written):
        print(line)
    if args.summary is not None:
        write_text(Path(args.summary), markdown_summary(diff))
    return CHANGED_EXIT if diff.changed else 0


def report_after_fetch(config: StudyConfig, before: Path, debug: bool = False) -> Diff | None:
    """After ``fetch``: the snapshot before against after, summary on stdout, outputs in reports/."""
    try:
        diff, written = run_diff(config, str(before), None, old_label="vóór fetch")
    except PipelineError as exc:
        if debug:
            raise
        print(f"warning: release diff not written ({exc}); run `python -m pipeline diff`", file=sys.stderr)
        return None
    for line in summary_lines(diff, written):
        print(line)
    return diff
