"""The validation page (``reports/validation.html``): a notebook like the case reports, rendered the same way.

The notebook ``notebooks/validatie.ipynb`` calls the functions here; each returns HTML. The page
shows the one-line summary, the report's own errata, and every cell side by side.
"""

from __future__ import annotations

import html

import pandas as pd

from .config import StudyConfig, load_config
from .validate import DIFFERS, MATCH, NOT_COMPUTABLE, NOT_PUBLISHED, ValidationResult
from .validation_summary import read_summary

STATUS_NL = {MATCH: "gelijk", DIFFERS: "verschilt", NOT_PUBLISHED: "niet gepubliceerd", NOT_COMPUTABLE: "niet berekenbaar"}


def load_result(config_path: str | None = None) -> ValidationResult:
    config = load_config(config_path) if config_path else load_config()
    directory = config.processed_dir
    cells = pd.read_csv(directory / "validation.csv", dtype={"rij_code": str, "gepubliceerd_gedrukt": str})
    errata = pd.read_csv(directory / "errata.csv", dtype=str).fillna("")
    return ValidationResult(cells=cells, errata=errata)


def summary_html(result: ValidationResult) -> str:
    n = result.counts()
    return ("<h1>Reproductie van hoofdstuk 6: berekend naast gepubliceerd</h1>"
            f'<p class="summary-line"><strong>{n["matched"]} van {n["published"]}</strong> gepubliceerde cellen '
            f"zijn gelijk (op de gedrukte afronding); {n['expected']} verklaard verschil, {n['unexplained']} "
            f"onverklaard; <strong>{n['errata']}</strong> {'erratum' if n['errata'] == 1 else 'errata'} "
            "in het rapport zelf.</p>"
            "<p>Tolerantie volgt de gedrukte afronding: decielen, euro's en indexcijfers als gehele getallen, "
            "percentages op één decimaal (half naar boven). Verwachte verschillen staan met reden in "
            "<code>data/external/published/expected_differences.csv</code>.</p>")


def errata_html(result: ValidationResult) -> str:
    if result.errata.empty:
        return "<h2>Errata in het rapport</h2><p>Geen interne tegenstrijdigheden gevonden.</p>"
    rows = "".join(
        f"<tr><td>Tabel {html.escape(str(r.tabel))}</td><td>{html.escape(r.rij_label)}</td>"
        f"<td>{html.escape(r.kolom)}</td><td class='num'>{html.escape(r.gedrukt)}</td>"
        f"<td class='num'>{html.escape(r.verwacht_uit_gedrukte_waarden)}</td><td>{html.escape(r.toelichting)}</td></tr>"
        for r in result.errata.itertuples())
    return ("<h2>Errata in het rapport</h2><p>Plaatsen waar het rapport zichzelf tegenspreekt, alleen uit de "
            "gedrukte waarden afgeleid (los van de data):</p>"
            '<table class="h6-table"><thead><tr><th>tabel</th><th>rij</th><th>kolom</th><th>gedrukt</th>'
            f"<th>volgt uit gedrukte waarden</th><th>toelichting</th></tr></thead><tbody>{rows}</tbody></table>")


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".").rstrip("0").rstrip(",")


def cells_html(result: ValidationResult) -> str:
    rows = []
    for r in result.cells.itertuples():
        status = STATUS_NL.get(r.status, r.status)
        rows.append(f'<tr class="status-{r.status.replace(" ", "-")}"><td>{r.tabel}</td>'
                    f"<td>{html.escape(str(r.rij_label))}</td><td>{html.escape(r.kolom)}</td>"
                    f"<td class='num'>{html.escape(str(r.gepubliceerd_gedrukt))}</td>"
                    f"<td class='num'>{_fmt(r.berekend)}</td><td class='num'>{_fmt(r.verschil)}</td>"
                    f"<td>{status}</td><td>{html.escape(str(r.reden) if isinstance(r.reden, str) else '')}</td></tr>")
    return ("<h2>Alle cellen</h2>"
            '<table class="h6-table validation"><thead><tr><th>tabel</th><th>rij</th><th>kolom</th>'
            "<th>gepubliceerd</th><th>berekend</th><th>verschil</th><th>status</th><th>reden</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def index_summary(config: StudyConfig) -> str | None:
    """One line for the index page, or None when validation has not run."""
    counts = read_summary(config)
    if counts is None:
        return None
    return (f"{counts['matched']} van {counts['published']} gepubliceerde cellen gelijk, {counts['errata']} "
            f"{'erratum' if counts['errata'] == 1 else 'errata'}, {counts['unexplained']} onverklaarde verschillen")
