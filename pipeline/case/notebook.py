"""What the case notebook calls: every cell is one call here (or a ``write_...`` call and the HTML of what
it wrote), so the notebook holds no logic.

The ``*_html`` functions return HTML for ``IPython.display.HTML`` and write nothing; the ``write_...``
functions write a table or figure under ``reports/cases/<code>/`` (CSV, PNG, SVG) and return what the
HTML shows.
"""

from __future__ import annotations

import base64
import html
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.build import indicators as ind
from pipeline.case.tables import (CaseContext, gebruik_table, has_provisional, index_series, kerncijfers, lasten_table,
                   load_case, size_class_bounds, tabel1)
from pipeline.case.captions import table_caption, table_note
from pipeline.case.figures import (figure_caption, figure_data, half_year_text, index_figure, index_kinds,
                                   save_figure)
from pipeline.case.formatting import (KIND_TITLES, NO_VALUE, cell_attributes, cell_state, cell_text, euro, headers,
                                      kind_of, percent, points, provenance_legend_html, tabel1_table_html,
                                      table_empty_states, table_html, table_kinds, whole)
from pipeline.case.selection import RULE_TEXT
from pipeline.iorw import write_csv
from pipeline.processed import NEDERLAND, read_build_warnings
from pipeline.case.provenance import (KIND_LABELS, demo_banner_html, kind_label, provenance_notes_html, provenance_rows,
                                      sources_table_html, versions_line, warnings_for)



@dataclass
class Session:
    ctx: CaseContext
    output_dir: Path
    tables: dict = field(default_factory=dict)  # the case's tables by the function that makes them (session_table)


def session_table(session: Session, make):
    """``make(session.ctx)`` (:func:`lasten_table`, :func:`gebruik_table`), made once per session: the
    section that shows a table and the list of its empty cells read the same frame."""
    if make not in session.tables:
        session.tables[make] = make(session.ctx)
    return session.tables[make]


def open_case(case: str, config_path: str | None = None, output_dir: str | None = None) -> Session:
    # papermill may hand over a code that YAML or JSON turned into a number; CBS codes are strings
    ctx = load_case(str(case), config_path)
    out = Path(output_dir) if output_dir else ctx.config.reports_dir / "cases" / ctx.case.code
    return Session(ctx=ctx, output_dir=out)


def banner_html(session: Session) -> str:
    if not session.ctx.data.generated:
        return ""
    return demo_banner_html()


def header_html(session: Session) -> str:
    ctx = session.ctx
    refs = ", ".join(html.escape(ctx.data.names[c]) for c in ctx.references)
    bounds = size_class_bounds(ctx.config, ctx.case.size_class)
    rule = (f"<dt>Keuze referentiegroep</dt><dd>{html.escape(RULE_TEXT)}</dd>" if ctx.case.automatic else
            "<dt>Keuze referentiegroep</dt><dd>Zoals in Tabel 1 van het rapport (configuratie).</dd>")
    snapshot = ", ".join(f"{r['table_id']} ({kind_label(r)})" for r in provenance_rows(ctx.data.provenance))
    return (banner_html(session)
            + f"<h1>Casus {html.escape(ctx.name)} <small>({ctx.case.code})</small></h1>"
            + '<dl class="summary">'
            + f"<dt>Referentiegroep</dt><dd>{refs}</dd>"
            + f"<dt>Grootteklasse</dt><dd>{html.escape(ctx.case.size_class)} ({size_class_text(bounds)})</dd>"
            + rule
            + f"<dt>Gegevens</dt><dd>{html.escape(snapshot)}; per tabel uitgesplitst onder "
              '<a href="#bronnen">Bronnen en herkomst</a></dd>'
            + f"<dt>Bron methode</dt><dd>{html.escape(ctx.config.report.get('publisher', ''))}, "
              f"<em>{html.escape(ctx.config.report.get('title', ''))}</em> "
              f"({ctx.config.report.get('year', '')}), {html.escape(ctx.config.report.get('chapter', ''))}</dd>"
            + "</dl>")


def reference_group_html(session: Session) -> str:
    """The case's own reference group with what it was chosen on (for a municipality outside Tabel 1)."""
    ctx = session.ctx
    g = ctx.data.gemeenten.set_index("code")
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(g.loc[c, 'naam'])}</th><td>{c}</td><td>{html.escape(str(g.loc[c, 'grootteklasse']))}</td>"
        f"<td>{html.escape(str(g.loc[c, 'jeugdregio_naam']))}</td><td>{html.escape(str(g.loc[c, 'provincie']))}</td>"
        f"<td class='num'>{whole(g.loc[c, 'inwoners'])}</td></tr>" for c in [ctx.case.code, *ctx.references])
    return ('<table class="h6-table text"><caption>Referentiegroep ' + html.escape(ctx.name) + "</caption>"
            "<thead><tr><th>gemeente</th><th>code</th><th>grootteklasse (CBS)</th><th>jeugdregio</th><th>provincie</th>"
            f"<th>inwoners</th></tr></thead><tbody>{rows}</tbody></table>")


def size_class_text(bounds) -> str:
    """'20.000 tot 50.000 inwoners', or '250.000 inwoners of meer' for the open top class."""
    if bounds.max >= 10**8:
        return f"{whole(bounds.min)} inwoners of meer"
    return f"{whole(bounds.min)} tot {whole(bounds.max)} inwoners"


def tabel1_html(session: Session) -> str:
    if session.ctx.case.automatic:
        return reference_group_html(session)
    frame = tabel1(session.ctx.config, session.ctx.data)
    return tabel1_table_html(frame)


@dataclass(frozen=True)
class CaseTable:
    """One of the case's two tables (``kind`` lasten or gebruik) and its number in the report (None outside it)."""
    kind: str
    number: int | None
    frame: pd.DataFrame


def write_case_table(session: Session, kind: str) -> CaseTable:
    """Compute the case's table ``kind`` (lasten, gebruik) and write it as ``tabelN.csv`` (``tabel_<kind>.csv``
    for a case outside the report)."""
    ctx = session.ctx
    number = ctx.case.table_lasten if kind == "lasten" else ctx.case.table_gebruik
    frame = session_table(session, lasten_table if kind == "lasten" else gebruik_table)
    write_csv(frame.drop(columns=["soort"]), session.output_dir / (f"tabel{number}.csv" if number else f"tabel_{kind}.csv"))
    return CaseTable(kind, number, frame)


def case_table_html(session: Session, table: CaseTable) -> str:
    """The table with its caption ("Tabel N ..."), legend and notes."""
    ctx = session.ctx
    return table_block_html(ctx.config, table.frame, table.number, table_caption(table.kind, ctx.name, table.number),
                            table_note(ctx.config, table.kind, has_provisional(ctx)))


def table_block_html(config, table, number: int | None, caption: str, note: str) -> str:
    """A case table as every page shows it (case report, chapter): the table, the legend of its markings,
    its note and the report's own notes."""
    return (table_html(table, config, caption)
            + provenance_legend_html(table_kinds(table), table_empty_states(table))
            + f'<p class="note">{html.escape(note)}</p>' + report_notes_html(config, number, table))


def report_notes_html(config, number: int | None, table) -> str:
    """The notes the report prints with this table (Tabel 4: Amersfoort's '#' footnote, the G4 note), and
    what '-' means when the table shows it."""
    from pipeline.case.tables import report_notes
    from pipeline.case.formatting import REPORT_EMPTY, report_marker

    shown = {report_marker(table, c, i) for c in table.columns for i in range(len(table))} - {None}
    notes = [text for marker, text in report_notes(config, number) if marker == "noot" or marker in shown]
    if REPORT_EMPTY in shown:
        notes.append(f"{REPORT_EMPTY}: in het rapport leeg gelaten; hier ook leeg getoond (het berekende getal staat "
                     "in de tooltip en in het CSV-bestand).")
    return "".join(f'<p class="note report-note">{html.escape(n)}</p>' for n in notes)


@dataclass(frozen=True)
class CaseFigure:
    """Figuur N as written: the file name (without suffix), the PNG's bytes and the numbers behind it (with
    ``<line>_herkomst`` columns)."""
    name: str
    png: bytes
    data: pd.DataFrame


def write_figure(session: Session) -> CaseFigure:
    """Save Figuur N as PNG and SVG and its numbers as CSV, in ``reports/cases/<code>/``."""
    ctx = session.ctx
    number = ctx.case.figure
    stem = session.output_dir / (f"figuur{number}" if number else "figuur")
    data = index_series(ctx)  # once, for the figure and the CSV next to it
    kinds = index_kinds(ctx, data)
    png, _ = save_figure(index_figure(ctx, number, data=data, kinds=kinds), stem)
    full = figure_data(ctx, data=data, kinds=kinds)
    write_csv(full.round(6).reset_index(), stem.with_suffix(".csv"))
    return CaseFigure(stem.name, png.read_bytes(), full)


def figure_html(session: Session, figure: CaseFigure) -> str:
    """The figure as an inline image with caption and alt text."""
    ctx = session.ctx
    full = figure.data
    data = full[[c for c in full.columns if not c.endswith("_herkomst")]]
    generated = [c for c in data.columns if (full[f"{c}_herkomst"] == "gegenereerd").any()]
    base = ctx.config.periods.jeugdhulp_base
    caption = figure_caption(ctx, ctx.case.figure)  # once, under the figure (the image itself has no title)
    last = data.iloc[-1]
    alt = (f"Lijndiagram van de index van het percentage jongeren met jeugdhulp zonder verblijf per halfjaar, "
           f"{base.half}e hj {base.year} = 100, voor {', '.join(data.columns)}. "
           f"In {half_year_text(data.index[-1])}: " + "; ".join(f"{k} {whole(v)}" for k, v in last.items()) + ".")
    if generated:
        first = next(i for i in data.index if (full.loc[i, [f"{c}_herkomst" for c in data.columns]]
                                                == "gegenereerd").any())
        alt += (f" Open rondjes en lichtere lijnen (vanaf {half_year_text(first)}): berust op gegenereerde demo-waarden, "
                "geen CBS-cijfers.")
    encoded = base64.b64encode(figure.png).decode("ascii")
    where = f"cases/{ctx.case.code}/{figure.name}"
    return (f'<figure class="h6-figure"><img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)} (ook als <a href=\"{where}.svg\">SVG</a> "
            f"en <a href=\"{where}.csv\">CSV</a>, met de herkomst per punt)</figcaption>"
            + ('<p class="legend">Open rondjes en lichtere lijnen: de index berust op gegenereerde demo-waarden '
               "(gekalibreerd op het rapport), geen CBS-cijfers; dichte rondjes: CBS of afgeleid uit CBS.</p>"
               if generated else "") + "</figure>")


@dataclass(frozen=True)
class CaseMap:
    """The case map as written: its PNG, the state of each panel (for legend and alt text), the reference names."""
    png: Path
    states: dict
    references: list[str]


def write_map(session: Session) -> CaseMap:
    """Draw the map of the case and its reference group, one panel per key indicator (PNG and SVG in
    ``reports/cases/<code>/``; colour classes as on the overview's national maps)."""
    from pipeline.case.maps import write_case_map
    from pipeline.case.tables import overview_frame

    ctx = session.ctx
    frame = overview_frame(ctx.config, ctx.data)
    png, states = write_case_map(ctx.config, frame, ctx.case.code, ctx.references, ctx.name, session.output_dir)
    return CaseMap(png, states, [frame.loc[c, "naam"] for c in ctx.references if c in frame.index])


def map_html(session: Session, case_map: CaseMap) -> str:
    """The map, linked from the page (not inlined), with its caption and legend."""
    from pipeline.case.maps import legend_text, map_alt

    ctx = session.ctx
    states = case_map.states
    alt = map_alt(["% jeugdhulp zonder verblijf", "de index daarvan", "lasten per inwoner", "SES-deciel"],
                  f"{ctx.name} en referentiegroep ({', '.join(case_map.references)})", list(states.values()))
    where = f"cases/{ctx.case.code}"
    png = case_map.png
    return (f'<figure class="h6-figure h6-map"><img src="{where}/{png.name}" alt="{html.escape(alt)}" '
            f'width="836" height="924">'
            f"<figcaption>Kaart {html.escape(ctx.name)} en referentiegroep: kerncijfers per gemeente "
            f'(ook als <a href="{where}/{png.stem}.svg">SVG</a>; alle gemeenten op de '
            f'<a href="overzicht.html#kaarten">landelijke kaarten</a>)</figcaption>'
            f'<p class="legend">{html.escape(legend_text(states))}</p></figure>')


KERNCIJFERS_COLUMNS = [  # (column, Dutch header, formatter)
    ("pct_met_verblijf_basis", "% met verblijf {base}", "percent"),
    ("pct_met_verblijf_actueel", "% met verblijf {current}", "percent"),
    ("index_aantal_met_verblijf", "Index aantal met verblijf ({base}=100)", "whole"),
    ("pct_via_wijkteam_actueel", "% jeugdhulp via wijkteam {current}", "percent"),
    ("verandering_covid_procentpunt", "Verandering % zonder verblijf {before} → {current} (%-punt)", "points"),
    ("deciel_zonder_verblijf_voor_covid", "Deciel % zonder verblijf {before} (10 = hoogste)", "whole"),
    ("lasten_per_gebruiker_basis", "Lasten per gebruiker {first}", "euro"),
    ("index_lasten_per_gebruiker", "Index lasten per gebruiker {last} ({first}=100)", "whole"),
]


def _row_class(ctx: CaseContext, row) -> str:
    """The row's kind as in Tabel 2-11 (casus, nederland, jeugdregio, referentie): only the case is bold."""
    if row["code"] == ctx.case.code:
        return "casus"
    return row["unit_type"] if row["unit_type"] in ("nederland", "jeugdregio") else "referentie"


def _kerncijfers_labels(ctx: CaseContext) -> dict:
    p = ctx.config.periods
    return {"base": p.jeugdhulp_base.label, "current": p.jeugdhulp_current.label,
            "before": p.jeugdhulp_before_covid.label, "first": p.cost_trend_base_year, "last": p.iv3_rekening_year}


def write_kerncijfers(session: Session) -> pd.DataFrame:
    """Compute the figures chapter 6's text cites beside its tables and write them as ``kerncijfers.csv``."""
    frame = kerncijfers(session.ctx)
    write_csv(frame, session.output_dir / "kerncijfers.csv")
    return frame


def kerncijfers_html(session: Session, frame: pd.DataFrame) -> str:
    """The figures chapter 6's text cites beside its tables (:func:`write_kerncijfers`), with their definitions."""
    ctx = session.ctx
    p = ctx.config.periods
    labels = _kerncijfers_labels(ctx)
    formatters = {"percent": percent, "whole": whole, "euro": euro, "points": points}
    head = "".join(f'<th scope="col">{html.escape(h.format(**labels))}</th>' for _, h, _ in KERNCIJFERS_COLUMNS)
    body = "".join(
        f"<tr class='{_row_class(ctx, row)}'><th scope='row'>{html.escape(str(row['rij_label']))}</th>"
        + "".join(f"<td {cell_attributes(frame, col, i)}>{html.escape(cell_text(frame, col, i, formatters[kind]))}</td>"
                  for col, _, kind in KERNCIJFERS_COLUMNS)
        + "</tr>" for i, (_, row) in enumerate(frame.iterrows()))
    shown = frame[[c for c, _, _ in KERNCIJFERS_COLUMNS] + [f"{c}_herkomst" for c, _, _ in KERNCIJFERS_COLUMNS]]
    legend = provenance_legend_html(table_kinds(shown), table_empty_states(shown))
    sources = (f"Bron: jeugdzorgtabel {ctx.data.provenance['jeugdzorg']['table_id']} (met verblijf, via wijkteam, "
               f"zonder verblijf per halfjaar) en Iv3-tabellen "
               f"{', '.join(e['table_id'] for r, e in sorted(ctx.data.provenance.items()) if e.get('role') == 'iv3')} "
               f"(jaarrekeningen {p.cost_trend_base_year} en {p.iv3_rekening_year}); definities: "
               "pipeline.build.indicators.verandering_procentpunt, deciel_zonder_verblijf, index_aantal, "
               "index_lasten_per_gebruiker.")
    return (f'<table class="h6-table"><caption>Kerncijfers uit de tekst van hoofdstuk 6</caption>'
            f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'{legend}<p class="note">{html.escape(sources)}</p>')


METHOD_FUNCTIONS = ind.USED_BY_BUILD


# Choices the report leaves open, for readers (the reasoning is in the function's docstring)
CHOICES_NL = {
    "lasten_per_inwoner_gewogen": (
        "Het rapport zegt niet hoe de rijen Nederland en grootteklasse zijn gemiddeld. Gekozen is totale lasten "
        "gedeeld door totaal aantal inwoners (config: choices.lasten_per_inwoner_groep: gewogen): dat geeft voor "
        "Nederland de gedrukte € 293 uit de echte CBS-aantallen gebruikers en inwoners. De validatiepagina toont "
        "het effect van het ongewogen gemiddelde."),
    "pct_groep_gepoold": (
        "Voor een groep zonder eigen CBS-rij (grootteklasse) is het percentage het gepoolde aandeel over de "
        "jeugdbasis van de leden (config: choices.pct_zonder_verblijf_groep: gepoold); Nederland en jeugdregio's "
        "nemen de eigen CBS-rij."),
}


def report_quotes(doc: str) -> list[str]:
    """The report's own words quoted in a docstring (the Dutch text between double quotes)."""
    flat = " ".join(doc.split())
    return [q for q in re.findall(r'"([^"]{25,})"', flat)]


def methods_html(session: Session) -> str:
    """'Hoe is dit berekend': each indicator's definition, read from the function that computes it.

    Readers get the report's own Dutch definition (quoted in the docstring) up front; the full
    technical documentation of the function (English, like all code documentation) folds out.
    """
    items = []
    for fn in METHOD_FUNCTIONS:
        doc = inspect.getdoc(fn) or ""
        quotes = "".join(f"<blockquote>{html.escape(q)}</blockquote>" for q in report_quotes(doc))
        if fn.__name__ in CHOICES_NL:  # where the report is silent, say so and what was chosen
            quotes += f"<p>{html.escape(CHOICES_NL[fn.__name__])}</p>"
        items.append(f"<dt><code>pipeline.build.indicators.{fn.__name__}</code></dt>"
                     f"<dd>{quotes}<details><summary>Technische toelichting (Engels)</summary>"
                     f"<pre class='doc'>{html.escape(doc)}</pre></details></dd>")
    return ("<h2>Hoe is dit berekend</h2><p>Per kengetal de definitie uit het rapport (bijlage 3 of de tekst "
            "van hoofdstuk 6) en de functie in <code>pipeline/build/indicators.py</code> die het getal berekent.</p>"
            f'<dl class="methods">{"".join(items)}</dl>')


def _empty_cells(session: Session) -> list[str]:
    """Every "–" cell of the case's tables: where CBS has no value (suppressed or absent)."""
    ctx = session.ctx
    names = headers(ctx.config)
    out = []
    for number, frame in ((ctx.case.table_lasten, session_table(session, lasten_table)),
                          (ctx.case.table_gebruik, session_table(session, gebruik_table))):
        label = f"Tabel {number}" if number else "tabel"
        for column in [c for c in frame.columns if c in names]:
            for i in range(len(frame)):
                if cell_state(frame, column, i) == "geen":
                    out.append(f"{label}, {frame['rij_label'].iloc[i]}, {names[column]} — herkomst van de rij: "
                               f"{KIND_LABELS[kind_of(frame, column, i)]}")
    frame, labels = kerncijfers(ctx), _kerncijfers_labels(ctx)
    for column, header, _ in KERNCIJFERS_COLUMNS:
        for i in range(len(frame)):
            if cell_state(frame, column, i) == "geen":
                out.append(f"Kerncijfers, {frame['rij_label'].iloc[i]}, {header.format(**labels)} — herkomst van "
                           f"de rij: {KIND_LABELS[kind_of(frame, column, i)]}")
    return out


def provenance_html(session: Session) -> str:
    """'Bronnen en herkomst': per CBS table which values are CBS, derived or generated, with the notes on
    how; the build's warnings about this case's municipalities; the cells CBS has no value for."""
    ctx = session.ctx
    codes = [ctx.case.code, NEDERLAND, *([ctx.case.jeugdregio] if ctx.case.jeugdregio else []), *ctx.references]
    named = warnings_for(read_build_warnings(ctx.config.processed_dir), codes)
    empty = _empty_cells(session)
    parts = ['<footer class="provenance"><h2 id="bronnen">Bronnen en herkomst</h2>',
             "<p>Elk getal in de tabellen en de figuur draagt zijn herkomst: <em>CBS</em> (zoals gepubliceerd), "
             f'<span class="kind-afgeleid">afgeleid uit CBS</span> ({html.escape(KIND_TITLES["afgeleid"])}) of '
             '<span class="kind-gegenereerd">gegenereerd (demo)</span>; beweeg over een cel voor de herkomst. '
             "Onder de tabel per CBS-tabel welke rijen afgeleid of gegenereerd zijn, en hoe "
             "(toelichting in het Engels, uit het manifest van de snapshot).</p>",
             sources_table_html(ctx.data.provenance, fold_notes=False),
             "<h3>Afgeleide en gegenereerde rijen per CBS-tabel</h3>",
             provenance_notes_html(ctx.data.provenance),
             "<h3>Lege cellen en meldingen</h3>"]
    if empty:
        parts.append(f"<p>{NO_VALUE} = geen waarde in de bron (CBS: onderdrukt of niet beschikbaar); zo getoond, "
                     "nooit als nul. In deze casus:</p><ul>"
                     + "".join(f"<li>{html.escape(e)}</li>" for e in empty) + "</ul>")
    else:
        parts.append(f"<p>In de tabellen van deze casus ontbreekt geen CBS-waarde ({NO_VALUE} komt niet voor).</p>")
    if named:
        parts.append("<p>Meldingen van de build over gemeenten of regio's van deze casus (ook over cijfers "
                     "die niet in de tabellen staan):</p><ul class=\"warnings\">"
                     + "".join(f"<li>{html.escape(w)}</li>" for w in named) + "</ul>")
    else:
        parts.append("<p>Meldingen van de build over ontbrekende CBS-waarden voor de gemeenten en regio's van deze "
                     "casus: geen.</p>")
    parts.append(f"{versions_line()}</footer>")
    return "".join(parts)
