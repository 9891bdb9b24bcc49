"""Render executed notebooks to HTML with nbconvert and write ``reports/index.html``.

One ``HTMLExporter`` (template ``basic``: the notebook body without page chrome) is reused for every
report, with input cells and prompts hidden by option, not by editing notebooks. Each body is wrapped
in a small page that links one shared stylesheet (``reports/style.css``), so reports open offline:
no script, font or style comes from a CDN.
"""

from __future__ import annotations

import html
import json
import threading
from pathlib import Path

from pipeline.iorw import write_text
from pipeline.config import ROOT, StudyConfig, load_config
from pipeline.errors import SnapshotError, UnknownMunicipalityError
from pipeline.run.cache import case_state
from pipeline.run.execute import RunResult, Task, html_path, output_path
from pipeline.case.provenance import demo_banner_html, sources_table_html, versions_line
from pipeline.processed import is_generated, read_names, read_provenance

STYLESHEET = ROOT / "pipeline" / "assets" / "style.css"


REMOVE_TAG = "remove_cell"  # notebook cells for developers only (e.g. the intro), dropped from the HTML


_EXPORTER = None  # nbconvert is imported on first use: a no-op run must not pay for it
_EXPORTER_LOCK = threading.Lock()  # threads of one process share the exporter, one render at a time


def make_exporter():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.anchor_link_text = ""
    remover = TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True)
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


def page(title: str, body: str, generated: bool, stamp: str, nav: bool = True) -> str:
    # a case notebook shows the banner itself (so the .ipynb carries it too); never show it twice
    banner = demo_banner_html() if generated and 'class="banner"' not in body else ""
    navigation = '<nav><a href="index.html">← Overzicht hoofdstuk 6</a></nav>\n' if nav else ""
    return ("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n"
            f"<body>\n{navigation}{banner}\n<main>\n{body}\n</main>\n"
            f"<p class=\"stamp\">Gegenereerd {html.escape(stamp)}</p>\n</body>\n</html>\n")


def render_case(notebook: Path, title: str, generated: bool, stamp: str) -> str:
    """An executed notebook as a report page, rendered by this process's one reused exporter."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        # papermill gives its injected cell a random id, which nbconvert writes into the HTML
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return page(title, render_body(nb), generated, stamp)


def render_body(nb) -> str:
    global _EXPORTER
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            _EXPORTER = make_exporter()
        body, _ = _EXPORTER.from_notebook_node(nb)
    return body


def case_title_and_generated(task: Task) -> tuple[str, bool]:
    """Report title (the municipality's name) and whether the snapshot is generated."""
    config = load_config(task.config_path)
    name = read_names(config.processed_dir).get(task.code, task.code)
    return task.title or f"Casus {name} — hoofdstuk 6", is_generated(read_provenance(config.processed_dir))


def write_case_report(task: Task, result: RunResult) -> None:
    """The case's report page; a failed case's page says it failed, whatever the notebook shows."""
    title, generated = case_title_and_generated(task)
    output = Path(task.notebook)
    text = render_case(output, title, generated, task.stamp) if output.exists() else page(title, "", generated, task.stamp)
    if result.error:
        text = text.replace("<main>\n", "<main>\n" + failure_notice(result), 1)
    write_text(Path(task.html), text)
    result.html = Path(task.html)


def failure_notice(result: RunResult) -> str:
    where = f" in {result.cell}" if result.cell else ""
    return (f'<p class="failed" role="alert"><strong>Deze casus is mislukt bij de laatste run</strong>{html.escape(where)}: '
            f"{html.escape(result.error or '')}. De cijfers hieronder zijn onvolledig of ontbreken; "
            "los de fout op en draai <code>python -m pipeline run</code> opnieuw.</p>\n")


def warm_up() -> None:
    """Pay nbconvert's first-render costs (template compilation, Markdown and HTML parsers) and
    nbformat's schema compilation once, before the children fork, instead of in every child."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# *warm*"), nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", {"text/html": "<p>warm</p>", "text/plain": "warm"})])]
    nbformat.validate(nb)
    render_body(nb)


def notebook_failed(notebook: Path) -> str | None:
    """The error papermill recorded in an executed notebook, if any."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def chapter_counts(config: StudyConfig) -> list[dict]:
    """Per case table (Tabel 2-11) its cells by what they show: number, case and
    :func:`pipeline.case.formatting.count_cells` (cellen, cbs, afgeleid, gegenereerd, geen, nvt). Needs pandas."""
    from pipeline.case.tables import case_tables
    from pipeline.processed import Processed
    from pipeline.case.formatting import count_cells

    data = Processed.read(config.processed_dir)
    return [{"tabel": number, "casus": ctx.name, **count_cells([table])}
            for number, _, ctx, table in case_tables(config, data)]


COUNT_KEYS = ("cbs", "afgeleid", "gegenereerd", "geen", "nvt", "cellen")


def _counts_section(counts: list[dict] | None) -> str:
    """How many cells of the chapter's tables rest on CBS data, derived and generated values."""
    if not counts:
        return ""
    total = {k: sum(c[k] for c in counts) for k in COUNT_KEYS}
    numbers = [c["tabel"] for c in counts]
    span = f"Tabel {min(numbers)}-{max(numbers)}" if len(numbers) > 1 else f"Tabel {numbers[0]}"
    shown = total["cbs"] + total["afgeleid"] + total["gegenereerd"]
    attrs = " ".join(f'data-{k}="{total[k]}"' for k in COUNT_KEYS)
    rows = "".join(
        f"<tr><td>Tabel {c['tabel']}</td><td>{html.escape(c['casus'])}</td>"
        + "".join(f'<td class="num">{c[k]}</td>' for k in COUNT_KEYS) + "</tr>" for c in counts)
    rows += ("<tr class=\"total\"><th scope=\"row\">totaal</th><td></td>"
             + "".join(f'<td class="num">{total[k]}</td>' for k in COUNT_KEYS) + "</tr>")
    return ("<h2>Herkomst van de cijfers</h2>"
            f'<p class="counts" {attrs}>{span} tellen samen <strong>{total["cellen"]}</strong> cellen; '
            f"{shown} tonen een getal: <strong>{total['cbs']}</strong> rechtstreeks CBS, "
            f'<strong>{total["afgeleid"]}</strong> <span class="kind-afgeleid">afgeleid uit echte CBS-cijfers</span> '
            f'en <strong>{total["gegenereerd"]}</strong> <span class="kind-gegenereerd">gegenereerd (demo)</span>. '
            f"Leeg: {total['nvt']} × x (niet van toepassing, zoals in het rapport) en {total['geen']} × \u2013 "
            "(geen waarde in de bron). Een getal dat ook maar één gegenereerde invoer heeft, telt als gegenereerd.</p>"
            '<details><summary>Per tabel</summary><table class="h6-table counts"><thead><tr><th>tabel</th>'
            "<th>casus</th><th>CBS</th><th>afgeleid</th><th>gegenereerd</th><th>\u2013 geen waarde</th>"
            f"<th>x n.v.t.</th><th>cellen</th></tr></thead><tbody>{rows}</tbody></table></details>")


def write_index_page(config_path: str, entries: list[dict], stamp: str) -> None:
    """Write ``reports/index.html`` (in a child of the preloaded runner: the cell counts need pandas)."""

    config = load_config(config_path)
    provenance = read_provenance(config.processed_dir)
    write_text(config.reports_dir / "index.html",
               index_html(config, provenance, entries, stamp, chapter_counts(config)))


def index_html(config: StudyConfig, provenance: dict, entries: list[dict], stamp: str,
               counts: list[dict] | None = None) -> str:
    rows = []
    for e in entries:
        state = e.get("state") or ("failed" if e["error"] else "ok")
        status = {"ok": "ok", "failed": "mislukt: " + html.escape(e["error"] or ""),
                  "stale": "verouderd (" + html.escape(e.get("stale") or "") + "); draai python -m pipeline run",
                  "missing": "nog niet uitgevoerd (python -m pipeline run)"}[state]
        link = (f'<a href="{e["href"]}">{html.escape(e["name"])}</a>' if e["href"] != "#"
                else html.escape(e["name"]))  # no report to link to: not a link to nothing
        rows.append(f"<tr><td>{link}</td><td>{e['code']}</td><td>{html.escape(e['tables'])}</td>"
                    f"<td>{html.escape(e['figure'])}</td><td class=\"{state if state != 'ok' else 'ok'}\" "
                    f"data-state=\"{state}\">{status}</td></tr>")
    report = config.report
    body = (f"<h1>Hoofdstuk 6 — Vergelijkende analyse per gemeente</h1>"
            f"<p>Herberekening van hoofdstuk 6 van <em>{html.escape(report.get('title', ''))}</em> "
            f"({html.escape(report.get('publisher', ''))}, {report.get('year', '')}) uit open data van het CBS.</p>"
            "<h2>Casussen</h2><table class=\"h6-table text\"><thead><tr><th>casus</th><th>code</th><th>tabellen</th>"
            f"<th>figuur</th><th>status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            '<p class="chapter-link"><a href="hoofdstuk6.html">Het hoofdstuk zoals de lezer het heeft</a>: Tabel 1, '
            "per casus de twee tabellen en de figuur met de bijschriften en voetnoten van het rapport.</p>"
            f"{_counts_section(counts)}"
            f"<h2>Gegevens</h2>{sources_table_html(provenance)}"
            f"{_validation_section(config)}"
            f"{_changes_section(config)}"
            f'<h2>Alle gemeenten</h2><p><a href="overzicht.html">Overzicht</a>: kerncijfers en decielen van alle '
            f"{len(entries)} doorgerekende gemeenten, sorteerbaar, met een spreidingsdiagram.</p>"
            f"{versions_line()}")
    return page("Hoofdstuk 6 — overzicht", body, is_generated(provenance), stamp, nav=False)


def _validation_section(config: StudyConfig) -> str:
    from pipeline.report.validation_page import index_summary

    line = index_summary(config)
    if line is None:
        return "<h2>Validatie</h2><p>Nog niet uitgevoerd: <code>python -m pipeline validate</code>.</p>"
    return (f'<h2>Validatie</h2><p><a href="validation.html">Berekend naast gepubliceerd</a>: '
            f"{html.escape(line)}.</p>")


def _changes_section(config: StudyConfig) -> str:
    """A link to the last release diff (``python -m pipeline diff``, run after every fetch), when there is one."""
    path = config.reports_dir / "wijzigingen.json"
    if not path.exists():
        return ""
    try:
        diff = json.loads(path.read_text(encoding="utf-8"))
        tables = [t for t in diff.get("tables", []) if t.get("status") not in (None, "unchanged")]
        what = (f"{len(tables)} tabel(len) gewijzigd" if diff.get("changed") else "geen wijzigingen")
        line = f"{diff.get('old', '?')} → {diff.get('new', '?')}: {what}"
    except (OSError, ValueError, AttributeError):
        line = "het verslag is onleesbaar; draai python -m pipeline diff opnieuw"
    return (f'<h2>Wijzigingen</h2><p><a href="wijzigingen.html">Wat de laatste CBS-release veranderde</a>: '
            f"{html.escape(line)}.</p>")


def executed_codes(config: StudyConfig) -> list[str]:
    """Every municipality with an executed case notebook: the configured cases first, then by code."""
    configured = [c.code for c in config.cases]
    found = sorted(p.stem for p in (config.reports_dir / "notebooks").glob("GM*.ipynb"))
    return configured + [code for code in found if code not in configured]


def require_executed(config: StudyConfig) -> None:
    """Raise a clear error when there is no executed case notebook to report on."""
    if not any((config.reports_dir / "notebooks").glob("GM*.ipynb")):
        raise SnapshotError("no executed notebooks to render; run `python -m pipeline run` first")


def stale_notice(entry: dict) -> str:
    """The banner of a case page whose inputs changed after its run (``report`` without ``run``)."""
    return (f'<p class="failed" role="alert"><strong>Verouderd:</strong> deze casus is uitgevoerd vóór de laatste '
            f"wijziging ({html.escape(entry.get('stale') or '')}); de cijfers hieronder horen bij de vorige invoer. "
            f"Draai <code>python -m pipeline run --case {html.escape(entry['code'])}</code> (of "
            "<code>make report</code>).</p>\n")


def index_entry(config: StudyConfig, code: str, names: dict[str, str]) -> dict:
    """One row of the index page: the case, its tables and figure in the report, and its state."""
    if code not in names:
        raise UnknownMunicipalityError(f"{code} is not a municipality of the snapshot's classification; "
                                       "see data/processed/gemeenten.csv for valid codes")
    case = config.case(code)  # a case outside the configured ones has no table or figure in the report
    numbers = (case.table_lasten, case.table_gebruik) if case else ()
    entry = {"code": code, "name": names[code], "href": f"{code}.html", "error": None,
             "tables": ", ".join(f"Tabel {n}" for n in numbers if n),
             "figure": f"Figuur {case.figure}" if case and case.figure else ""}
    # the state of the last run (its lock), not what an old notebook on disk happens to show
    state, detail = case_state(config, code)
    entry["state"] = state
    if state == "failed":
        entry["error"] = detail
    elif state == "stale":
        entry["stale"] = detail
    if state == "missing" or not html_path(config, code).exists() and not output_path(config, code).exists():
        entry["href"] = "#"
    return entry
