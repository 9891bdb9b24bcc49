"""The chapter as a reader holds it: ``reports/hoofdstuk6.html`` (and, printed from it, ``hoofdstuk6.pdf``).

Chapter 6 laid out as the report lays it out: Tabel 1, then per case, in the order of the report's
sections (6.3.1 Deventer, 6.3.2 Utrecht, 6.3.3 Zaltbommel, 6.3.4 Peel en Maas, 6.3.5 Roosendaal), its
two tables with the report's Dutch captions and footnotes, its figure with the caption once under it,
and a short "Toelichting" generated from the numbers in those tables: which values, how they compare
with Nederland and the reference group; no interpretation the numbers do not carry. Every number
shows its provenance (the classes and tooltips of :func:`pipeline.case.formatting.table_html`, and the same
classes on the numbers of the paragraph). The page ends with what still differs from the print.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from pipeline.case.tables import (CaseContext, gebruik_table, has_provisional, lasten_table, municipality_name,
                   report_notes, tabel1)
from pipeline.config import StudyConfig, load_config
from pipeline.processed import NEDERLAND, Processed
from pipeline.case.figures import figure_caption, half_year_text
from pipeline.case.formatting import (KIND_TITLES, cell_state, euro, footnotes, kind_of, percent, provenance_legend_html,
                         tabel1_table_html, table_empty_states, table_html, table_kinds, whole)
from pipeline.iorw import write_text
from pipeline.case.provenance import sources_table_html, versions_line

CHAPTER_PAGE = "hoofdstuk6.html"
TITLE = "Hoofdstuk 6 — Vergelijkende analyse per gemeente"

# What still differs from the printed chapter, and why (the closing note of the page)
DIFFERENCES = [
    ("Getallen", "De getallen zijn herberekend uit CBS-tabellen, niet overgenomen. In deze demo-snapshot berust "
     "een deel op gegenereerde waarden (grijs en cursief), gekalibreerd op het rapport; die bewijzen niets over "
     "het rapport. Welke berekende cellen van de gedrukte afwijken en waarom, staat per cel op de "
     "validatiepagina."),
    ("Namen", "Gemeenten heten zoals in de CBS-indeling 2020 ('s-Gravenhage, Horst aan de Maas, West Betuwe); het "
     "rapport schrijft Den Haag, Horst a/d Maas en (in Tabel 6 en 7) West-Betuwe. Jeugdregio's idem "
     "(Noord-Limburg, West Brabant West voor het gedrukte Noord Limburg en West Brabant-w)."),
    ("Tabel 4, Amersfoort", "Het rapport drukt € 10.250# (uit de jaarrekening van Amersfoort) en laat lasten "
     "per inwoner en de index leeg (-). Hier staat het uit de CBS-data berekende bedrag met hetzelfde teken #, "
     "en blijven de twee cellen leeg zoals gedrukt; het berekende getal staat in de tooltip en in het CSV."),
    ("Tabel 1, grootteklasse Utrecht", "Tabel 1 drukt 150.000-300.000; de tekst onder Tabel 4 noemt 150.000-250.000. "
     "Tabel 1 staat hier zoals gedrukt, de noot onder Tabel 4 ook; de berekening gebruikt de grootteklasse uit "
     "de configuratie (150-300K)."),
    ("Figuren", "De figuren zijn opnieuw getekend (matplotlib): dezelfde lijnen en halfjaren, maar een eigen "
     "opmaak; punten die op gegenereerde waarden berusten hebben open rondjes. De gedrukte figuren zijn in de "
     "tekstversie van het rapport niet beschikbaar, dus de lijnen zijn niet met de druk te vergelijken."),
    ("Toelichting", "De toelichting per casus is hier een korte samenvatting van de getallen in de tabellen, "
     "gegenereerd; de gedrukte toelichting (interviews, begrotingen, jaarrekeningen, interpretatie) is niet "
     "overgenomen. Voetnoot 1 (taakvelden 6.72 en 6.82) en 2 (ijkpunt 2e hj 2019) horen bij die tekst."),
    ("Opmaak", "Kopjes, lettertype en paginering zijn die van deze pagina, niet van de drukproef; tabellen en "
     "figuren worden in de PDF niet over twee pagina's gesplitst."),
]


def _validation(config: StudyConfig, text: str) -> str:
    """A link to the validation page, when the build wrote one (it needs data/processed/validation.csv)."""
    if (config.processed_dir / "validation.csv").exists():
        return f'<a href="validation.html">{html.escape(text)}</a>'
    return html.escape(text) + " (nog niet uitgevoerd: python -m pipeline validate)"


def _num(value, kind: str | None, fmt) -> str:
    """A number in the paragraph, with its provenance as class and tooltip (like a table cell)."""
    if value is None or pd.isna(value):
        return "<span class=\"no-value\" title=\"geen waarde in de bron\">\u2013</span>"
    kind = kind if isinstance(kind, str) else "cbs"
    return (f'<span class="kind-{kind}" title="{html.escape(KIND_TITLES[kind])}">'
            f"{html.escape(fmt(value))}</span>")


def _cell(table: pd.DataFrame, code: str, column: str):
    rows = table.index[table["rij_code"] == code]
    if not len(rows) or column not in table.columns:
        return None, None
    i = int(rows[0])
    if cell_state(table, column, i) != "value":
        return None, None
    return table[column].iloc[i], kind_of(table, column, i)


def _compare(a, b) -> str:
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return "niet te vergelijken met"
    return "hoger dan" if a > b else "lager dan" if a < b else "gelijk aan"


def toelichting_html(ctx: CaseContext, lasten: pd.DataFrame, gebruik: pd.DataFrame) -> str:
    """A short factual paragraph from the numbers of the case's two tables: the case against Nederland
    and the range of its reference group. No interpretation."""
    p = ctx.config.periods
    year = p.iv3_rekening_year
    base, cur = p.jeugdhulp_base, p.jeugdhulp_current
    b_text, c_text = half_year_text(base.label), half_year_text(cur.label)
    code, name = ctx.case.code, ctx.name
    pu, pi, ix = f"lasten_per_gebruiker_{year}", f"lasten_per_inwoner_{year}", "index_lasten_per_inwoner"
    pb, pc, ip = f"pct_zonder_verblijf_{base.year}hj{base.half}", f"pct_zonder_verblijf_{cur.year}hj{cur.half}", \
        "index_pct_zonder_verblijf"

    def n(table, row, column, fmt):
        return _num(*_cell(table, row, column), fmt)

    def spread(table, column, fmt) -> str:
        values = [(municipality_name(ctx.data, r), *_cell(table, r, column)) for r in ctx.references]
        values = [v for v in values if v[1] is not None]
        if not values:
            return "geen waarden voor de referentiegemeenten"
        low, high = min(values, key=lambda v: v[1]), max(values, key=lambda v: v[1])
        return (f"van {_num(low[1], low[2], fmt)} ({html.escape(low[0])}) tot "
                f"{_num(high[1], high[2], fmt)} ({html.escape(high[0])})")

    def value(table, column):
        return _cell(table, code, column)[0]

    nl_pu, nl_pi, nl_ix = (_cell(lasten, NEDERLAND, c)[0] for c in (pu, pi, ix))
    ses, armoede = _cell(lasten, code, "ses_deciel"), _cell(lasten, code, "armoede_deciel")
    sentences = [
        f"{html.escape(name)} heeft SES-deciel {_num(*ses, whole)} en armoede-deciel {_num(*armoede, whole)} "
        f"(referentiegroep: SES-deciel {spread(lasten, 'ses_deciel', whole)}).",
        f"De lasten per gebruiker {year} zijn {n(lasten, code, pu, euro)}, {_compare(value(lasten, pu), nl_pu)} "
        f"Nederland ({n(lasten, NEDERLAND, pu, euro)}); in de referentiegroep {spread(lasten, pu, euro)}.",
        f"De lasten per inwoner (rekening {year}) zijn {n(lasten, code, pi, euro)} tegen "
        f"{n(lasten, NEDERLAND, pi, euro)} in Nederland; de index ten opzichte van de begroting "
        f"{p.iv3_begroting_year} is {n(lasten, code, ix, whole)} (Nederland {n(lasten, NEDERLAND, ix, whole)}).",
        f"Het percentage jeugdigen met jeugdhulp zonder verblijf ging van {n(gebruik, code, pb, percent)} in het "
        f"{b_text} naar {n(gebruik, code, pc, percent)} in het {c_text}: index {n(gebruik, code, ip, whole)}, "
        f"{_compare(value(gebruik, ip), _cell(gebruik, NEDERLAND, ip)[0])} Nederland "
        f"({n(gebruik, NEDERLAND, ip, whole)})"
        + (f" en {_compare(value(gebruik, ip), _cell(gebruik, ctx.case.jeugdregio, ip)[0])} de jeugdregio "
           f"({n(gebruik, ctx.case.jeugdregio, ip, whole)})" if ctx.case.jeugdregio else "")
        + f"; in de referentiegroep {spread(gebruik, ip, whole)}.",
    ]
    return (f'<h3>Toelichting bij casus {html.escape(name)}</h3><p class="toelichting">{" ".join(sentences)} '
            '<span class="muted">(Samenvatting van de getallen in de tabellen hierboven, gegenereerd; de gedrukte '
            "toelichting van het rapport staat niet op deze pagina.)</span></p>")


def tabel1_html(config: StudyConfig, data: Processed) -> str:
    frame = tabel1(config, data)
    return tabel1_table_html(frame)


def _table_block(config: StudyConfig, table: pd.DataFrame, number: int, caption: str, note: str) -> str:
    from pipeline.case.notebook import report_notes_html

    return ('<div class="keep">' + table_html(table, config, f"Tabel {number} {caption}")
            + provenance_legend_html(table_kinds(table), table_empty_states(table))
            + f'<p class="note">{html.escape(note)}</p>' + report_notes_html(config, number, table) + "</div>")


def _figure_block(ctx: CaseContext) -> str:
    """The case figure (the PNG the case notebook wrote; drawn here when it is missing), caption once, under it."""
    from pipeline.case.figures import index_figure, save_figure

    number = ctx.case.figure
    stem = ctx.config.reports_dir / "cases" / ctx.case.code / (f"figuur{number}" if number else "figuur")
    if not stem.with_suffix(".png").exists():
        save_figure(index_figure(ctx, number), stem)
    src = f"cases/{ctx.case.code}/{stem.name}.png"
    alt = (f"Lijndiagram: index van het percentage jongeren met jeugdhulp zonder verblijf per halfjaar voor "
           f"{ctx.name}, Nederland, de jeugdregio en de referentiegemeenten.")
    return (f'<figure class="h6-figure keep"><img src="{src}" alt="{html.escape(alt)}" width="880" height="495">'
            f"<figcaption>{html.escape(figure_caption(ctx, number))}</figcaption>"
            '<p class="legend">Open rondjes en lichtere lijnen: de index berust op gegenereerde demo-waarden, geen '
            "CBS-cijfers; dichte rondjes: CBS of afgeleid uit CBS. * voorlopige cijfers.</p></figure>")


def case_section(config: StudyConfig, data: Processed, number: int, case) -> str:
    ctx = CaseContext(config=config, case=case, data=data)
    name = ctx.name
    lasten, gebruik = lasten_table(ctx), gebruik_table(ctx)
    note = footnotes(config)
    gebruik_note = note
    if has_provisional(ctx):
        current = config.periods.jeugdhulp_current
        gebruik_note += f" Cijfers over {current.half}e halfjaar {current.year} zijn voorlopig (CBS)."
    text_notes = "".join(f'<p class="note">{html.escape(t)}</p>' for m, t in report_notes(config, case.table_lasten)
                         if m not in ("#", "noot"))  # footnotes called from the printed toelichting
    links = (f'<p class="links">Meer: <a href="{case.code}.html">casusrapport {html.escape(name)}</a> '
             f'(kerncijfers, kaart, berekening, herkomst) · {_validation(config, "validatie")} '
             f'(elke cel naast de gedrukte) · CSV: <a href="cases/{case.code}/tabel{case.table_lasten}.csv">Tabel {case.table_lasten}</a>, '
             f'<a href="cases/{case.code}/tabel{case.table_gebruik}.csv">Tabel {case.table_gebruik}</a></p>')
    return (f'<section class="case" id="{case.code}"><h2>6.3.{number}. {html.escape(name)}</h2>'
            + _table_block(config, lasten, case.table_lasten,
                           f"Bevindingen {name} en referentiegroep: lasten jeugdzorg en sociaal-economische status",
                           note)
            + _table_block(config, gebruik, case.table_gebruik,
                           f"Ontwikkeling gebruik jeugdzorg en sociaal economische status in {name} en bij "
                           "referentiegroep", gebruik_note)
            + _figure_block(ctx) + toelichting_html(ctx, lasten, gebruik) + text_notes + links + "</section>")


def chapter_html(config: StudyConfig, data: Processed) -> str:
    report = config.report
    cases = [c for c in config.cases if c.table_lasten and c.table_gebruik]
    sections = "".join(case_section(config, data, i, case) for i, case in enumerate(cases, 1))
    contents = "".join(f'<li><a href="#{c.code}">6.3.{i}. {html.escape(municipality_name(data, c.code))}</a></li>'
                       for i, c in enumerate(cases, 1))
    differences = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in DIFFERENCES)
    return (f"<h1>{html.escape(TITLE)}</h1>"
            f"<p>Hoofdstuk 6 van <em>{html.escape(report.get('title', ''))}</em> "
            f"({html.escape(report.get('publisher', ''))}, {report.get('year', '')}), herberekend uit open data van "
            "het CBS en opgemaakt zoals het rapport: Tabel 1, dan per casus de twee tabellen en de figuur. "
            f'Zie ook de {_validation(config, "validatie")} (elke cel naast de gedrukte), het '
            '<a href="overzicht.html">overzicht met kaarten</a> en de <a href="index.html">index</a>.</p>'
            f'<nav class="toc" aria-label="Inhoud"><ol><li><a href="#tabel1">6.2. Tabel 1</a></li>{contents}'
            '<li><a href="#verschillen">Wat verschilt van de druk</a></li></ol></nav>'
            '<section id="tabel1"><h2>6.2. Vergelijking lasten en gebruik jeugdhulpverlening</h2>'
            "<p>Voor de vergelijking zijn gemeenten gezocht die grenzen aan de onderzochte gemeente; voor de grotere "
            "gemeenten is in de aangrenzende regio's gezocht naar gemeenten met min of meer vergelijkbare "
            "schaalgrootte (paragraaf 6.2 van het rapport).</p>"
            f'<div class="keep">{tabel1_html(config, data)}</div></section>'
            f"<h2>6.3. Resultaten vergelijkende analyses per gemeente</h2>{sections}"
            '<section id="verschillen" class="differences"><h2>Wat verschilt van de druk, en waarom</h2>'
            f'<dl class="differences">{differences}</dl></section>'
            f'<footer class="provenance"><h2 id="bronnen">Bronnen</h2>{sources_table_html(data.provenance)}'
            f"{versions_line()}</footer>")


def write_chapter(config: StudyConfig, data: Processed, stamp: str) -> Path:
    from pipeline.report.render import page

    target = config.reports_dir / CHAPTER_PAGE
    write_text(target, page(TITLE, chapter_html(config, data), data.generated, stamp))
    return target


def write_chapter_page(config_path: str, stamp: str) -> None:
    """:func:`write_chapter` by config path: what the runner calls in a child process."""
    config = load_config(config_path)
    write_chapter(config, Processed.read(config.processed_dir), stamp)
