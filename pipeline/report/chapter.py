"""The chapter as a reader holds it: ``reports/hoofdstuk6.html`` (and, printed from it, ``hoofdstuk6.pdf``).

Chapter 6 laid out as the report lays it out: Tabel 1, then per case, in the order of the report's
sections (6.3.1 Deventer, 6.3.2 Utrecht, 6.3.3 Zaltbommel, 6.3.4 Peel en Maas, 6.3.5 Roosendaal), its
two tables with the report's Dutch captions and footnotes, its figure with the caption once under it,
and a short "Toelichting" generated from the numbers in those tables: which values, how they compare
with Nederland and the reference group; no interpretation the numbers do not carry. Every number
shows its provenance (the classes and tooltips of :func:`pipeline.case.formatting.table_html`, and the same
classes on the numbers of the paragraph). The page ends with what still differs from the print.

The markup is ``templates/chapter.html``; the functions here compute what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.case.captions import table_caption, table_note
from pipeline.case.figures import figure_caption, half_year_text
from pipeline.case.formatting import KIND_TITLES, cell_state, euro, kind_of, percent, tabel1_table_html, whole
from pipeline.case.notebook import table_block_html
from pipeline.case.provenance import sources_table_html, versions_line
from pipeline.case.tables import CaseContext, gebruik_table, has_provisional, lasten_table, municipality_name, report_notes, tabel1
from pipeline.config import StudyConfig, load_config
from pipeline.iorw import write_text
from pipeline.processed import NEDERLAND, Processed
from pipeline.report.templates import markup, render

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


@dataclass(frozen=True)
class Number:
    """A number of the paragraph as shown (``text`` None: no value in the source) and its provenance kind."""
    text: str | None
    kind: str = "cbs"


@dataclass(frozen=True)
class Spread:
    """The lowest and highest value of the reference group, with the municipalities' names."""
    low: Number
    low_name: str
    high: Number
    high_name: str


def _number(value, kind: str | None, fmt) -> Number:
    if value is None or pd.isna(value):
        return Number(None)
    return Number(fmt(value), kind if isinstance(kind, str) else "cbs")


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


def toelichting(ctx: CaseContext, lasten: pd.DataFrame, gebruik: pd.DataFrame) -> dict:
    """The numbers of the short factual paragraph under the case's tables (``chapter.html``, macro
    ``toelichting``): the case against Nederland and the range of its reference group. No interpretation."""
    p = ctx.config.periods
    year = p.iv3_rekening_year
    base, cur = p.jeugdhulp_base, p.jeugdhulp_current
    code = ctx.case.code
    pu, pi, ix = f"lasten_per_gebruiker_{year}", f"lasten_per_inwoner_{year}", "index_lasten_per_inwoner"
    pb, pc, ip = f"pct_zonder_verblijf_{base.year}hj{base.half}", f"pct_zonder_verblijf_{cur.year}hj{cur.half}", \
        "index_pct_zonder_verblijf"

    def n(table, row, column, fmt) -> Number:
        return _number(*_cell(table, row, column), fmt)

    def spread(table, column, fmt) -> Spread | None:
        values = [(municipality_name(ctx.data, r), *_cell(table, r, column)) for r in ctx.references]
        values = [v for v in values if v[1] is not None]
        if not values:
            return None
        low, high = min(values, key=lambda v: v[1]), max(values, key=lambda v: v[1])
        return Spread(_number(low[1], low[2], fmt), low[0], _number(high[1], high[2], fmt), high[0])

    def value(table, row, column):
        return _cell(table, row, column)[0]

    region = ctx.case.jeugdregio
    return {
        "name": ctx.name, "year": year, "begroting_year": p.iv3_begroting_year,
        "base": half_year_text(base.label), "current": half_year_text(cur.label),
        "ses": n(lasten, code, "ses_deciel", whole), "armoede": n(lasten, code, "armoede_deciel", whole),
        "ses_spread": spread(lasten, "ses_deciel", whole),
        "pu": n(lasten, code, pu, euro), "pu_nl": n(lasten, NEDERLAND, pu, euro),
        "pu_compare": _compare(value(lasten, code, pu), value(lasten, NEDERLAND, pu)), "pu_spread": spread(lasten, pu, euro),
        "pi": n(lasten, code, pi, euro), "pi_nl": n(lasten, NEDERLAND, pi, euro),
        "ix": n(lasten, code, ix, whole), "ix_nl": n(lasten, NEDERLAND, ix, whole),
        "pb": n(gebruik, code, pb, percent), "pc": n(gebruik, code, pc, percent), "ip": n(gebruik, code, ip, whole),
        "ip_compare": _compare(value(gebruik, code, ip), value(gebruik, NEDERLAND, ip)),
        "ip_nl": n(gebruik, NEDERLAND, ip, whole),
        "region": {"compare": _compare(value(gebruik, code, ip), value(gebruik, region, ip)),
                   "value": n(gebruik, region, ip, whole)} if region else None,
        "ip_spread": spread(gebruik, ip, whole),
    }


def figure_stem(ctx: CaseContext) -> Path:
    """Where the case notebook writes the case figure (``reports/cases/<code>/figuurN``, without suffix)."""
    number = ctx.case.figure
    return ctx.config.reports_dir / "cases" / ctx.case.code / (f"figuur{number}" if number else "figuur")


def write_missing_figures(config: StudyConfig, data: Processed) -> None:
    """Draw the figure of every chapter case whose notebook has not written it (the chapter links the PNG)."""
    from pipeline.case.figures import index_figure, save_figure

    for case in chapter_cases(config):
        ctx = CaseContext(config=config, case=case, data=data)
        if not figure_stem(ctx).with_suffix(".png").exists():
            save_figure(index_figure(ctx, case.figure), figure_stem(ctx))


def case_section(config: StudyConfig, data: Processed, number: int, case) -> dict:
    """What ``chapter.html`` shows of one case (macro ``case_section``)."""
    ctx = CaseContext(config=config, case=case, data=data)
    lasten, gebruik = lasten_table(ctx), gebruik_table(ctx)
    tables = [markup(table_block_html(config, table, n, table_caption(kind, ctx.name, n),
                                           table_note(config, kind, has_provisional(ctx))))
              for table, n, kind in ((lasten, case.table_lasten, "lasten"), (gebruik, case.table_gebruik, "gebruik"))]
    return {"code": case.code, "number": number, "name": ctx.name, "lasten": case.table_lasten,
            "gebruik": case.table_gebruik, "tables": tables,
            "figure": {"src": f"cases/{case.code}/{figure_stem(ctx).name}.png", "caption": figure_caption(ctx, case.figure)},
            "toelichting": toelichting(ctx, lasten, gebruik),
            # footnotes called from the printed toelichting
            "notes": [t for m, t in report_notes(config, case.table_lasten) if m not in ("#", "noot")]}


def chapter_cases(config: StudyConfig) -> list:
    """The cases the chapter has a section for (those with both tables in the report), in its order."""
    return [c for c in config.cases if c.table_lasten and c.table_gebruik]


def chapter_html(config: StudyConfig, data: Processed, stamp: str = "") -> str:
    """The whole page (the case figures it links: :func:`write_missing_figures`)."""
    from pipeline.report.render import shell

    report = config.report
    cases = [case_section(config, data, i, case) for i, case in enumerate(chapter_cases(config), 1)]
    return render("chapter.html", **shell(TITLE, data.generated, stamp),
                  report={k: report.get(k, "") for k in ("title", "publisher", "year")},
                  validated=(config.processed_dir / "validation.csv").exists(), kind_titles=KIND_TITLES,
                  cases=cases, tabel1=markup(tabel1_table_html(tabel1(config, data))), differences=DIFFERENCES,
                  sources=markup(sources_table_html(data.provenance)), versions=markup(versions_line()))


def write_chapter(config: StudyConfig, data: Processed, stamp: str) -> Path:
    """Write ``reports/hoofdstuk6.html`` (and any case figure it links that is missing)."""
    write_missing_figures(config, data)
    target = config.reports_dir / CHAPTER_PAGE
    write_text(target, chapter_html(config, data, stamp))
    return target


def write_chapter_page(config_path: str, stamp: str) -> None:
    """:func:`write_chapter` by config path: what the runner calls in a child process."""
    config = load_config(config_path)
    write_chapter(config, Processed.read(config.processed_dir), stamp)
