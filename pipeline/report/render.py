"""Render executed notebooks to HTML with nbconvert and write ``reports/index.html``.

One ``HTMLExporter`` (template ``basic``: the notebook body without page chrome) is reused for every
report, with input cells and prompts hidden by option, not by editing notebooks. Each body is wrapped
in the page every report shares (``templates/page.html``), which links one shared stylesheet
(``reports/style.css``), so reports open offline: no script, font or style comes from a CDN. The index
page is ``templates/index.html``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pipeline.iorw import write_text
from pipeline.config import ROOT, StudyConfig, load_config
from pipeline.errors import SnapshotError, UnknownMunicipalityError
from pipeline.run.cache import case_state
from pipeline.run.execute import RunResult, Task, html_path, output_path
from pipeline.case.provenance import sources_table_html, versions_line
from pipeline.report.templates import bytecode_cache, markup, render, template_module, warm as warm_templates
from pipeline.processed import is_generated, read_names, read_provenance

STYLESHEET = ROOT / "pipeline" / "assets" / "style.css"


REMOVE_TAG = "remove_cell"  # notebook cells for developers only (e.g. the intro), dropped from the HTML


_EXPORTER = None  # nbconvert is imported on first use: a no-op run must not pay for it
_EXPORTER_LOCK = threading.Lock()  # threads of one process share the exporter, one render at a time


def make_exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.preprocessors import TagRemovePreprocessor

    class BodyExporter(HTMLExporter):
        """nbconvert's HTML exporter without its final pass: ``HTMLExporter.from_notebook_node`` parses the
        whole page with BeautifulSoup and writes it out again, to give images without ``alt`` a placeholder and
        JupyterLab's cell wrappers (template ``lab``) a ``tabindex``. These pages come from template
        ``basic``, which has no such wrappers, every image on them has its own ``alt``, and no element is
        written as ``<x/>`` (``anchor_link_text`` below), so that pass changes nothing (tests/test_end_to_end.py)
        and costs 0.3 s on the validation page and ~0.03 s, half the render, on every case page. The template
        is rendered as ``TemplateExporter`` renders it."""

        def from_notebook_node(self, nb, resources=None, **kw):
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = BodyExporter(template_name="basic")
    exporter.environment.bytecode_cache = bytecode_cache()  # before the first template is loaded
    # the one filter HTMLExporter registers per notebook that TemplateExporter lacks; with inputs excluded it
    # highlights nothing, but the template refers to it
    exporter.register_filter("highlight_code", Highlight2HTML(parent=exporter))
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    # each Markdown heading gets an id and a link to itself, which the stylesheet shows on hover only; with
    # no text, nbconvert writes that link as <a .../>, which a browser reads as a link left open to the end
    exporter.anchor_link_text = "¶"
    # validate the notebook once, after the last preprocessor, not after each of the ~13 registered ones
    # (most of them disabled, leaving the notebook as it was): the same HTML, ~15 ms less per page
    exporter.optimistic_validation = True
    remover = TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True)
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


def page(title: str, body: str, generated: bool, stamp: str, nav: bool = True, notice: str = "") -> str:
    """``body`` (HTML: nbconvert's, or a page's own) in the shell every page shares (``page.html``);
    ``notice``: an alert above it (:func:`failure_notice`, :func:`stale_notice`)."""
    return render("page.html", **{**shell(title, generated, stamp, nav, body), "body": markup(body),
                                   "notice": markup(notice)})


def shell(title: str, generated: bool, stamp: str, nav: bool = True, body: str = "") -> dict:
    """What ``page.html`` needs besides the body; pages that extend it pass this too."""
    # a case notebook shows the banner itself (so the .ipynb carries it too); never show it twice
    return {"title": title, "banner": generated and 'class="banner"' not in body, "stamp": stamp, "nav": nav,
            "notice": ""}


def render_case(notebook: Path, title: str, generated: bool, stamp: str, notice: str = "") -> str:
    """An executed notebook as a report page, rendered by this process's one reused exporter; ``notice``: an
    alert above it."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        # papermill gives its injected cell a random id, which nbconvert writes into the HTML
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return page(title, render_body(nb), generated, stamp, notice=notice)


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
    notice = failure_notice(result) if result.error else ""
    text = (render_case(output, title, generated, task.stamp, notice) if output.exists()
            else page(title, "", generated, task.stamp, notice=notice))
    write_text(Path(task.html), text)
    result.html = Path(task.html)


def failure_notice(result: RunResult) -> str:
    where = f" in {result.cell}" if result.cell else ""
    return str(template_module("notices.html").failure(where, result.error or ""))


def warm_up() -> None:
    """Pay nbconvert's first-render costs (template compilation, the Markdown parser), nbformat's schema
    compilation and the page templates' compilation once, before the children fork, instead of in every
    child."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# *warm*"), nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", {"text/html": "<p>warm</p>",
                                                "text/plain": "warm"})])]
    nbformat.validate(nb)
    render_body(nb)
    warm_templates()


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


def counts_context(counts: list[dict] | None) -> dict:
    """What ``index_counts.html`` shows: the cells per table, their total and the span of tables."""
    if not counts:
        return {"counts": [], "total": {}, "span": "", "count_keys": COUNT_KEYS}
    numbers = [c["tabel"] for c in counts]
    return {"counts": counts, "total": {k: sum(c[k] for c in counts) for k in COUNT_KEYS}, "count_keys": COUNT_KEYS,
            "span": f"Tabel {min(numbers)}-{max(numbers)}" if len(numbers) > 1 else f"Tabel {numbers[0]}"}


def write_index_page(config_path: str, entries: list[dict], stamp: str) -> None:
    """Write ``reports/index.html`` (in a child of the preloaded runner: the cell counts need pandas)."""

    config = load_config(config_path)
    provenance = read_provenance(config.processed_dir)
    write_text(config.reports_dir / "index.html",
               index_html(config, provenance, entries, stamp, chapter_counts(config)))


def index_html(config: StudyConfig, provenance: dict, entries: list[dict], stamp: str,
               counts: list[dict] | None = None) -> str:
    from pipeline.report.validation_page import index_summary

    rows = [{"name": e["name"], "href": e["href"], "code": e["code"], "tables": e["tables"], "figure": e["figure"],
             "state": e.get("state") or ("failed" if e["error"] else "ok"), "error": e["error"],
             "stale": e.get("stale")} for e in entries]  # href "#": no report to link to, so no link
    report = config.report
    return render("index.html", **shell("Hoofdstuk 6 — overzicht", is_generated(provenance), stamp, nav=False),
                  report={k: report.get(k, "") for k in ("title", "publisher", "year")}, entries=rows,
                  **counts_context(counts), sources=markup(sources_table_html(provenance)),
                  validation=index_summary(config), changes=changes_line(config), versions=markup(versions_line()))


def changes_line(config: StudyConfig) -> str | None:
    """What the last release diff (``python -m pipeline diff``, run after every fetch) changed, when there is one."""
    path = config.reports_dir / "wijzigingen.json"
    if not path.exists():
        return None
    try:
        diff = json.loads(path.read_text(encoding="utf-8"))
        tables = [t for t in diff.get("tables", []) if t.get("status") not in (None, "unchanged")]
        what = (f"{len(tables)} tabel(len) gewijzigd" if diff.get("changed") else "geen wijzigingen")
        line = f"{diff.get('old', '?')} → {diff.get('new', '?')}: {what}"
    except (OSError, ValueError, AttributeError):
        line = "het verslag is onleesbaar; draai python -m pipeline diff opnieuw"
    return line


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
    return str(template_module("notices.html").stale(entry.get("stale") or "", entry["code"]))


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
