"""What reviewers and analysts take away: the chapter as an Excel workbook and the reports as PDF.

* :func:`write_workbook` writes ``reports/hoofdstuk6.xlsx`` (openpyxl): one sheet per report table
  (Tabel 1-11) with the report's Dutch headers and number formats, a ``bronnen`` sheet with the CBS
  tables behind them and an ``inhoud`` sheet with the captions. Values are the numbers of
  :mod:`pipeline.case.tables`, unrounded; the number formats show them as the report prints them. The file
  is byte-identical for identical data (fixed workbook dates, fixed zip timestamps).
* :func:`write_pdfs` prints every rendered report to ``reports/pdf/`` through headless Chromium
  (Playwright over the DevTools protocol, the system's Chromium, networking off): one PDF per case
  and ``hoofdstuk6.pdf``, printed from the chapter page ``reports/hoofdstuk6.html`` (:mod:`pipeline.report.chapter`):
  Tabel 1 and then, per case in the order of the report, its two tables and its figure. A4, page numbers
  in the footer.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pipeline.iorw import write_bytes
from pipeline.case.captions import TABEL1_CAPTION, table_caption
from pipeline.case.tables import case_tables, tabel1
from pipeline.processed import Processed
from pipeline.case.provenance import DEMO_BANNER, KIND_LABELS, kind_label, where_text
from pipeline.config import WORKBOOK_NAME, StudyConfig, load_config
from pipeline.errors import PipelineError
from pipeline.case.formatting import NO_VALUE_TITLE, cell_state, column_kind, headers, kind_of

PDF_DIR = "pdf"
COMBINED_PDF = "hoofdstuk6.pdf"
CHAPTER_SOURCE = "hoofdstuk6.html"  # reports/hoofdstuk6.html, written by pipeline.report.chapter

# Number formats as the report prints them (Excel shows them with the reader's decimal separator)
EURO_FORMAT = '"€ "#,##0'
PERCENT_FORMAT = '0.0"%"'
WHOLE_FORMAT = "0"
GENERATED_COLOUR = "FF767676"  # the grey of .kind-gegenereerd in the HTML reports
HERKOMST_PREFIX = "herkomst: "
COMMENT_AUTHOR = "pipeline"
DERIVED_COMMENT = ("Afgeleid uit echte CBS-cijfers, maar niet zo gepubliceerd: uit een andere CBS-tabel of herleid "
                   "uit de voorgangers van een fusiegemeente (zie blad bronnen).")
GENERATED_NOTE = ("Grijs en cursief: berust op gegenereerde demo-waarden (gekalibreerd op het rapport), geen "
                  "CBS-cijfer. Met een opmerking: afgeleid uit echte CBS-cijfers. Lege cel met opmerking: geen "
                  "waarde in de bron (CBS), niet nul. Kolommen 'herkomst: ...' geven per cel cbs, afgeleid of "
                  "gegenereerd.")

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Flags that work as root in a container; the resolver rule makes every host name unresolvable,
# so nothing can leave the machine even if a page asked for it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


class BrowserError(PipelineError):
    """Headless Chromium is missing or failed."""


# ---------------------------------------------------------------------------------------------
# Excel


def _value_format(column: str) -> str:
    return {"euro": EURO_FORMAT, "percent": PERCENT_FORMAT, "whole": WHOLE_FORMAT}[column_kind(column)]


def _stamp(data: Processed) -> datetime:
    """A fixed date for the workbook's properties: the newest fetch of the snapshot."""
    dates = []
    for entry in data.provenance.values():
        try:
            dates.append(datetime.fromisoformat(str(entry.get("fetched_at")).replace("Z", "+00:00")))
        except ValueError:
            continue
    newest = max(dates) if dates else datetime(2021, 1, 1, tzinfo=timezone.utc)
    return newest.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


@lru_cache(maxsize=None)
def _font(bold: bool = False, generated: bool = False):
    """The font of a cell: bold or not, generated values grey and italic. One object per style, shared by
    the cells that have it (openpyxl stores each style once anyway; making one per cell is most of the styling)."""
    from openpyxl.styles import Font

    return Font(bold=bold, italic=True, color=GENERATED_COLOUR) if generated else Font(bold=bold)


def _bold_header(sheet, widths: list[int]) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    alignment = Alignment(wrap_text=True, vertical="bottom")
    for cell in sheet[1]:
        cell.font = _font(bold=True)
        cell.alignment = alignment
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "B2"


def _mark_provenance(cell, table: pd.DataFrame, column: str, row: int, bold: bool) -> None:
    """Generated values grey and italic, derived values with a comment, values CBS has none for with one too."""
    from openpyxl.comments import Comment

    state = cell_state(table, column, row)
    if state == "nvt":
        return
    kind = kind_of(table, column, row)
    if kind == "gegenereerd":
        cell.font = _font(bold, generated=True)
    text = (NO_VALUE_TITLE + f" ({KIND_LABELS[kind]})") if state == "geen" else \
        DERIVED_COMMENT if kind == "afgeleid" else None
    if text:
        cell.comment = Comment(text, COMMENT_AUTHOR, width=260, height=90)


def _blocks_text(entry: dict) -> str:
    """A table's provenance blocks, one line each: kind — rows: note."""
    prov = entry.get("provenance") or {}
    lines = [f"{KIND_LABELS.get(b['kind'], b['kind'])} — {where_text(b.get('where') or {})}: {b.get('note', '')}"
             for b in prov.get("blocks", [])]
    return "\n".join(lines) or f"alle rijen: {KIND_LABELS.get(prov.get('default', 'cbs'), 'CBS')}"


def workbook(config: StudyConfig, data: Processed):
    """The openpyxl workbook: inhoud, Tabel 1-11, bronnen."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    names = headers(config)
    wb = Workbook()
    contents = wb.active
    contents.title = "inhoud"
    report = config.report
    contents.append([f"Hoofdstuk 6 — {report.get('title', '')} ({report.get('publisher', '')}, "
                     f"{report.get('year', '')}), herberekend uit CBS open data"])
    contents["A1"].font = _font(bold=True)
    if data.generated:
        contents.append([DEMO_BANNER])
    contents.append([GENERATED_NOTE])
    contents.append([])
    contents.append(["blad", "titel"])
    for cell in contents[contents.max_row]:
        cell.font = _font(bold=True)

    frame = tabel1(config, data)
    sheet = wb.create_sheet("Tabel 1")
    sheet.append([""] + list(frame.columns))
    for label, row in frame.iterrows():
        sheet.append([label] + list(row.values))
    _bold_header(sheet, [14] + [22] * len(frame.columns))
    contents.append(["Tabel 1", TABEL1_CAPTION])

    for number, kind, ctx, table in case_tables(config, data):
        sheet = wb.create_sheet(f"Tabel {number}")
        values = [c for c in table.columns if c in names]
        sheet.append(["Gemeente / groep", "CBS-code"] + [names[c] for c in values]
                     + [f"{HERKOMST_PREFIX}{names[c]}" for c in values])
        for i, (_, row) in enumerate(table.iterrows()):
            cells = [row["rij_label"], row["rij_code"]]
            cells += [None if pd.isna(row[c]) else float(row[c]) for c in values]
            cells += [None if cell_state(table, c, i) == "nvt" else kind_of(table, c, i) for c in values]
            sheet.append(cells)
        for j, column in enumerate(values, start=3):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = _value_format(column)
        for i, kind_of_row in enumerate(table["soort"], start=2):
            bold = kind_of_row == "casus"
            for cell in sheet[i]:
                cell.font = _font(bold)
            for j, column in enumerate(values, start=3):
                _mark_provenance(sheet.cell(row=i, column=j), table, column, i - 2, bold)
        _bold_header(sheet, [24, 12] + [18] * len(values) + [14] * len(values))
        contents.append([f"Tabel {number}", table_caption(kind, ctx.name, number)])

    sheet = wb.create_sheet("bronnen")
    sheet.append(["rol", "CBS-tabel", "titel", "versie (Modified)", "opgehaald", "soort", "snapshot (sha256)",
                  "welke rijen afgeleid of gegenereerd, en hoe (toelichting uit het manifest, Engels)"])
    for role, entry in data.provenance.items():
        sheet.append([role, entry.get("table_id"), entry.get("title"), entry.get("modified"), entry.get("fetched_at"),
                      kind_label(entry), entry.get("snapshot_sha256"), _blocks_text(entry)])
    _bold_header(sheet, [12, 14, 60, 26, 26, 28, 66, 100])
    for (cell,) in sheet.iter_rows(min_row=2, min_col=8, max_col=8):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    contents.append(["bronnen", "De CBS-tabellen achter de cijfers: id, titel, versie, ophaaldatum, soort "
                                "(CBS, afgeleid uit CBS, gegenereerd), welke rijen afgeleid of gegenereerd zijn en hoe"])
    contents.column_dimensions["A"].width = 10
    contents.column_dimensions["B"].width = 110

    stamp = _stamp(data)
    wb.properties.creator = "pipeline (jeugdzorg-hoofdstuk6)"
    wb.properties.title = f"Hoofdstuk 6 — {report.get('title', '')}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.lastModifiedBy = None
    return wb


def _normalised_zip(raw: bytes, stamp: datetime) -> bytes:
    """The same zip with fixed entry timestamps and a fixed 'modified' date, so identical data gives identical bytes.

    (openpyxl sets the workbook's modified date to the time of saving.)
    """
    fixed_date = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + fixed_date + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2021, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


def write_workbook(config: StudyConfig, data: Processed | None = None) -> Path:
    """Write ``reports/hoofdstuk6.xlsx`` from the processed data."""
    data = data or Processed.read(config.processed_dir)
    buffer = io.BytesIO()
    workbook(config, data).save(buffer)
    path = config.reports_dir / WORKBOOK_NAME
    write_bytes(path, _normalised_zip(buffer.getvalue(), _stamp(data)))
    return path


def write_workbook_file(config_path: str) -> None:
    """:func:`write_workbook` by config path: what the runner calls in a child process."""
    write_workbook(load_config(config_path))


# ---------------------------------------------------------------------------------------------
# Headless Chromium


def find_chromium() -> str | None:
    """The Chromium to drive: $H6_CHROMIUM, else Debian's /usr/bin/chromium (or a known alternative)."""
    override = os.environ.get("H6_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    return found


@contextmanager
def offline_browser():
    """A headless Chromium context with a fresh profile that can only load local files.

    Yields ``(context, blocked)``: ``blocked`` collects every request that tried to leave the
    machine (each was aborted).
    """
    executable = find_chromium()
    if not executable:
        raise BrowserError("Chromium not found (looked for /usr/bin/chromium); install it with "
                           "`apt-get install -y chromium` or set H6_CHROMIUM to its path")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dependency
        raise BrowserError(f"playwright is not installed ({exc}); run `make venv`") from exc
    blocked: list[str] = []

    def guard(route):
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    with tempfile.TemporaryDirectory(prefix="h6-chromium-") as profile, sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS, offline=True,
                locale="nl-NL", viewport={"width": 1100, "height": 900}, service_workers="block")
        except PlaywrightError as exc:
            raise BrowserError(f"could not start {executable}: {str(exc).splitlines()[0]}") from exc
        try:
            context.route(re.compile(r"^(https?|wss?|ftp)://"), guard)
            yield context, blocked
        finally:
            context.close()


# ---------------------------------------------------------------------------------------------
# PDF

FOOTER = ('<div style="font-size:8px;width:100%;margin:0 15mm;color:#555;display:flex;'
          'justify-content:space-between;font-family:sans-serif">'
          '<span class="title"></span><span>pagina <span class="pageNumber"></span> van '
          '<span class="totalPages"></span></span></div>')
PDF_OPTIONS = {"format": "A4", "print_background": True, "display_header_footer": True,
               "header_template": "<span></span>", "footer_template": FOOTER,
               "margin": {"top": "15mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}}


def _print(context, blocked: list[str], source: Path) -> bytes:
    page = context.new_page()
    try:
        page.goto(source.resolve().as_uri(), wait_until="load")
        page.emulate_media(media="print")
        if blocked:
            raise BrowserError(f"{source.name} asked for {blocked[0]}; reports must open offline")
        return page.pdf(**PDF_OPTIONS)
    finally:
        page.close()


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def write_pdfs(config: StudyConfig, wanted: list[str] | None = None) -> list[Path]:
    """Print each case report and the combined chapter to ``reports/pdf/``."""
    from pipeline.case.selection import select_cases

    reports = config.reports_dir
    codes = select_cases(config, wanted)
    missing = [f"{code}.html" for code in (c.code for c in config.cases) if not (reports / f"{code}.html").exists()]
    if missing or not (reports / "style.css").exists():
        raise PipelineError(f"rendered reports missing in {reports} ({', '.join(missing) or 'style.css'}); "
                            "run `make report` (python -m pipeline all) first")
    out = reports / PDF_DIR
    combined_source = reports / CHAPTER_SOURCE  # the chapter page itself (pipeline.report.chapter), printed as it is
    if not combined_source.exists():
        raise PipelineError(f"{combined_source} missing; run `make report` (python -m pipeline all) first")
    written = []
    with offline_browser() as (context, blocked):
        for code in codes:
            target = out / f"{code}.pdf"
            write_bytes(target, _print(context, blocked, reports / f"{code}.html"))
            written.append(target)
        target = out / COMBINED_PDF
        write_bytes(target, _print(context, blocked, combined_source))
        written.append(target)
    for path in written:
        print(f"{path}: {pdf_pages(path)} pagina's, {path.stat().st_size / 1024:.0f} kB", file=sys.stderr)
    return written
