"""The report's captions and notes of its tables, written once: the case notebook, the chapter page and the
workbook all take them from here (the figure's caption: :func:`pipeline.case.figures.figure_caption`)."""

from __future__ import annotations

TABEL1_CAPTION = "Tabel 1 In vergelijking betrokken gemeenten"
CAPTIONS = {  # by the kind of case table, as Tabel 2-11 of the report are captioned
    "lasten": "Bevindingen {name} en referentiegroep: lasten jeugdzorg en sociaal-economische status",
    "gebruik": "Ontwikkeling gebruik jeugdzorg en sociaal economische status in {name} en bij referentiegroep",
}


def table_caption(kind: str, name: str, number: int | None = None) -> str:
    """'Tabel 4 Bevindingen Utrecht en referentiegroep: ...' (without 'Tabel N' for a case outside the report)."""
    return (f"Tabel {number} " if number else "") + CAPTIONS[kind].format(name=name)


def footnotes(config) -> str:
    """The footnotes under every case table (the * and ** of the SES and poverty deciles)."""
    p = config.periods
    return (f"* SES-deciel op basis van mediaan gestandaardiseerd inkomen huishoudens {p.income_year} volgens "
            f"gemeenten {p.classification_year} CBS, laag deciel is laag inkomen. "
            f"** Kinderen in armoede deciel op basis van laag en langdurig laag inkomen {p.income_year} volgens "
            f"gemeenten {p.classification_year} CBS, laag deciel duidt op veel kinderen in armoede.")


def table_note(config, kind: str, provisional: bool) -> str:
    """The note under a case table: the footnotes, and for the use table whether its last half year is
    provisional (``provisional``: :func:`pipeline.case.tables.has_provisional`)."""
    note = footnotes(config)
    if kind == "gebruik" and provisional:
        current = config.periods.jeugdhulp_current
        note += f" Cijfers over {current.half}e halfjaar {current.year} zijn voorlopig (CBS)."
    return note
