"""Dutch number formatting and the HTML of the report tables ("€ 10.143", "8,1%", "x").

Numbers are rounded half up at the precision the report prints: whole euros, one-decimal
percentages, whole index points and deciles.
"""

from __future__ import annotations

import html

import pandas as pd

from pipeline.build.indicators import round_half_up
from pipeline.case.captions import TABEL1_CAPTION
from pipeline.processed import KIND_SUFFIX

MISSING = "x"


def dutch(text: str) -> str:
    """A number Python formatted ("1,234.5") with Dutch separators ("1.234,5"): thousands point, decimal comma."""
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def grouped(value: float, decimals: int) -> str:
    """``value`` rounded half up to ``decimals``, Dutch separators ("10.143", "8,1"): the printed precision."""
    return dutch(f"{round_half_up(value, decimals):,.{decimals}f}")


def trimmed(value: float, decimals: int) -> str:
    """``value`` with at most ``decimals`` decimals and no trailing zeros ("4.470", "26,5"): for computed
    values and differences, which have no printed precision (Python's rounding, not half up)."""
    return dutch(f"{value:,.{decimals}f}").rstrip("0").rstrip(",") if decimals else dutch(f"{value:,.0f}")


def euro(value) -> str:
    return MISSING if pd.isna(value) else f"€ {grouped(value, 0)}"


def percent(value) -> str:
    return MISSING if pd.isna(value) else f"{grouped(value, 1)}%"


def whole(value) -> str:
    return MISSING if pd.isna(value) else grouped(value, 0)


def decimal(value, decimals: int = 1) -> str:
    """A number with ``decimals`` decimals and a comma ("0,1"), rounded half up."""
    return MISSING if pd.isna(value) else grouped(value, decimals)


def computed(value) -> str:
    """A computed value or difference next to a printed one, up to two decimals ("1.234,5", "0,05"); empty
    when there is none."""
    return "" if value is None or pd.isna(value) else trimmed(float(value), 2)


def points(value) -> str:
    """A change in percentage points, always signed ("+0,4", "-1,2")."""
    return MISSING if pd.isna(value) else dutch(f"{value:+.1f}")


def plain(value) -> str:
    """Any value as Dutch readers write it, at the precision it has (a CBS value, a revised one, a difference):
    4.470 and 26,5, at most four decimals; None as "–" (no value); text and booleans as they are."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return trimmed(value, 4)
    if isinstance(value, int):
        return dutch(f"{value:,}")
    return str(value)


def column_kind(column: str) -> str:
    """How the report prints a table column, by its name: "euro", "percent" or "whole" (deciles, indices)."""
    if column.startswith("lasten_per"):
        return "euro"
    if column.startswith("pct_"):
        return "percent"
    return "whole"


def printed_decimals(column: str) -> int:
    """Decimals the report prints: one for percentages, none for euros, deciles and indices."""
    return 1 if column_kind(column) == "percent" else 0


def formatter_for(column: str):
    """The printed format of a table column, by its name."""
    return {"euro": euro, "percent": percent, "whole": whole}[column_kind(column)]


def headers(config) -> dict[str, str]:
    """The report's Dutch column headers, with years and half years taken from the config."""
    p = config.periods
    b, c = p.jeugdhulp_base, p.jeugdhulp_current
    return {
        "ses_deciel": "SES-deciel*",
        "armoede_deciel": "Kinderen >1 jaar armoede deciel**",
        f"lasten_per_gebruiker_{p.iv3_rekening_year}": f"Lasten per gebruiker {p.iv3_rekening_year}",
        f"lasten_per_inwoner_{p.iv3_rekening_year}": f"Lasten per inwoner Rekening {p.iv3_rekening_year}",
        "index_lasten_per_inwoner": (f"Index lasten/inw. {p.iv3_rekening_year} (rekening) "
                                     f"(begr{p.iv3_begroting_year}=100)"),
        f"pct_zonder_verblijf_{b.year}hj{b.half}": f"% jeugdigen met jeugdhulp zonder verblijf {b.half}e hj {b.year}",
        f"pct_zonder_verblijf_{c.year}hj{c.half}": f"% jeugdigen met jeugdhulp zonder verblijf {c.half}e hj {c.year}",
        "index_pct_zonder_verblijf": f"Index % jeugdigen hulp zonder verblijf {b.year} {b.half}e hj=100",
    }


def display_frame(table: pd.DataFrame, config) -> pd.DataFrame:
    """The table as printed: row labels as index, Dutch headers, formatted text cells.

    An empty cell is "x" where the report has no value either (not applicable) and "–" where CBS has
    no value (suppressed or absent): see :func:`cell_state`.
    """
    names = headers(config)
    values = [c for c in table.columns if c in names]
    out = pd.DataFrame({names[c]: [cell_text(table, c, i) for i in range(len(table))] for c in values})
    out.index = table["rij_label"].values
    out.index.name = None
    return out


KINDS = ("cbs", "afgeleid", "gegenereerd")
NO_VALUE = "\u2013"  # "–": CBS has no value here (suppressed or absent); never zero. "x" stays the report's own
NO_VALUE_TITLE = "geen waarde in de bron (CBS: onderdrukt of niet beschikbaar); leeg gelaten, niet als nul"
NOT_APPLICABLE_TITLE = "x: niet van toepassing (zoals in het rapport)"
KIND_TITLES = {
    "cbs": "CBS-cijfer",
    "afgeleid": "afgeleid uit echte CBS-cijfers (zie Bronnen: hoe)",
    "gegenereerd": "berust op gegenereerde demo-waarden, gekalibreerd op het rapport — geen CBS-cijfer",
}
REPORT_EMPTY_TITLE = "-: in het rapport leeg gelaten (zoals gedrukt)"
MARKER_TITLES = {"#": "#: in het rapport met voetnoot # (cijfer uit de jaarrekening van de gemeente; zie de noot)"}
MUNICIPALITY_ROWS = ("casus", "referentie", "gemeente")  # soort (case tables) or unit_type (kerncijfers)


def report_leaves_out(row_kind, column: str) -> bool:
    """Cells the report itself leaves out ("x") although the processed data may carry a kind for them:
    lasten per gebruiker of a size class (:func:`pipeline.case.tables.lasten_table` blanks the value but keeps the
    processed row's kind), and deciles of anything but a municipality (Nederland, a region)."""
    if row_kind == "grootteklasse" and column.startswith("lasten_per_gebruiker"):
        return True
    return "deciel" in column and isinstance(row_kind, str) and row_kind not in MUNICIPALITY_ROWS


def kind_of(table: pd.DataFrame, column: str, row: int) -> str:
    """The provenance kind of one cell of a case table (``cbs`` when the table carries none)."""
    kinds = table.get(f"{column}{KIND_SUFFIX}")
    value = kinds.iloc[row] if kinds is not None else None
    return value if isinstance(value, str) else "cbs"


def cell_state(table: pd.DataFrame, column: str, row: int) -> str:
    """``value``, ``nvt`` (empty where the report is empty too: printed "x") or ``geen`` (empty: CBS has
    no value, suppressed or absent: printed "–").

    A value column without a ``_herkomst`` column is taken as a plain table: an empty cell is "x".
    """
    value = table[column].iloc[row]
    if not pd.isna(value):
        return "value"
    kinds = table.get(f"{column}{KIND_SUFFIX}")
    if kinds is None or not isinstance(kinds.iloc[row], str):
        return "nvt"
    row_kind = next((table[c].iloc[row] for c in ("soort", "unit_type") if c in table.columns), None)
    if report_leaves_out(row_kind, column):
        return "nvt"
    return "geen"


REPORT_EMPTY = "-"  # the report leaves the cell empty (Tabel 4, Amersfoort); the computed value is in the tooltip
FOOTNOTE_MARKERS = ("#",)


def report_marker(table: pd.DataFrame, column: str, row: int) -> str | None:
    """The report's own marker of a cell ("#" after the value, "-" instead of it), from
    :func:`pipeline.case.tables.with_markers` (``table.attrs["markers"]``), or None."""
    markers = table.attrs.get("markers") or {}
    if not markers or "rij_code" not in table.columns:
        return None
    return markers.get((table["rij_code"].iloc[row], column))


def cell_text(table: pd.DataFrame, column: str, row: int, formatter=None) -> str:
    """One cell as printed: the formatted number, "x" (not applicable) or "–" (no value from CBS); with the
    report's own markers where it has them ("€ 10.250#", "-")."""
    marker = report_marker(table, column, row)
    if marker == REPORT_EMPTY:
        return REPORT_EMPTY
    state = cell_state(table, column, row)
    if state == "geen":
        return NO_VALUE
    text = (formatter or formatter_for(column))(table[column].iloc[row])
    return text + marker if marker in FOOTNOTE_MARKERS else text


def cell_attributes(table: pd.DataFrame, column: str, row: int) -> str:
    """``class`` and ``title`` of one value cell: its provenance kind (or why it is empty)."""
    state = cell_state(table, column, row)
    marker = report_marker(table, column, row)
    if marker == REPORT_EMPTY:
        value = table[column].iloc[row]
        computed = (f"; hier berekend: {formatter_for(column)(value)} ({KIND_TITLES[kind_of(table, column, row)]})"
                    if state == "value" else "")
        return f'class="num report-empty" title="{html.escape(REPORT_EMPTY_TITLE + computed)}"'
    if state == "nvt":
        return f'class="num nvt" title="{html.escape(NOT_APPLICABLE_TITLE)}"'
    origin = kind_of(table, column, row)
    if marker in FOOTNOTE_MARKERS and state == "value":
        return (f'class="num kind-{origin} marked" '
                f'title="{html.escape(KIND_TITLES[origin] + "; " + MARKER_TITLES[marker])}"')
    if state == "geen":
        return f'class="num no-value kind-{origin}" title="{html.escape(NO_VALUE_TITLE)}"'
    return f'class="num kind-{origin}" title="{html.escape(KIND_TITLES[origin])}"'


def table_html(table: pd.DataFrame, config, caption: str) -> str:
    """An accessible HTML table: caption, header cells with scope, right-aligned numbers.

    Every value cell carries its provenance as a class and a tooltip: generated values are shown grey
    and italic, derived values underlined with dots (``provenance_legend_html`` explains both).
    """
    shown = display_frame(table, config)
    names = headers(config)
    columns = [c for c in table.columns if c in names]
    kinds = table["soort"].tolist()
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in shown.columns)
    body = []
    for i, ((label, row), kind) in enumerate(zip(shown.iterrows(), kinds)):
        cells = "".join(f"<td {cell_attributes(table, column, i)}>{html.escape(value)}</td>"
                        for column, value in zip(columns, row.values))
        body.append(f'<tr class="{kind}"><th scope="row">{html.escape(str(label))}</th>{cells}</tr>')
    return (f'<table class="h6-table"><caption>{html.escape(caption)}</caption>'
            f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def provenance_legend_html(kinds, empty=()) -> str:
    """The legend under a table: which marking means generated or derived (only the kinds that occur),
    and the two empty-cell markers ("x", "–") when they occur (``empty``: states ``nvt``, ``geen``)."""
    items = []
    if "gegenereerd" in kinds:
        items.append('<span class="kind-gegenereerd">grijs en cursief</span>: berust op gegenereerde demo-waarden '
                     "(gekalibreerd op het rapport), geen CBS-cijfer")
    if "afgeleid" in kinds:
        items.append('<span class="kind-afgeleid">stippellijn</span>: afgeleid uit echte CBS-cijfers '
                     "(andere CBS-tabel of herleid uit fusiegemeenten; zie Bronnen)")
    if items and "cbs" in kinds:
        items.append("overige cijfers: CBS")
    elif items:
        items.append("geen van de cijfers is rechtstreeks een CBS-cijfer")
    if "geen" in empty:
        items.append(f"{NO_VALUE}: geen waarde in de bron (CBS: onderdrukt of niet beschikbaar), niet nul")
    if "nvt" in empty:
        items.append("x: niet van toepassing, zoals in het rapport")
    if not items:
        return ""
    return '<p class="legend">' + "; ".join(items) + ".</p>"


def table_kinds(table: pd.DataFrame) -> set[str]:
    """The provenance kinds of a case table's values (the cells that show a number)."""
    return {kind for state, kind in table_cells(table) if state == "value"}


def table_empty_states(table: pd.DataFrame) -> set[str]:
    """Which empty-cell markers a case table shows: ``nvt`` ("x"), ``geen`` ("–")."""
    return {state for state, _ in table_cells(table) if state != "value"}


def value_columns(table: pd.DataFrame) -> list[str]:
    """The value columns of a table: those with a ``_herkomst`` column next to them."""
    return [c[: -len(KIND_SUFFIX)] for c in table.columns
            if c.endswith(KIND_SUFFIX) and c[: -len(KIND_SUFFIX)] in table.columns]


def table_cells(table: pd.DataFrame) -> list[tuple[str, str | None]]:
    """(state, kind) of every value cell: state ``value``/``nvt``/``geen``, kind cbs/afgeleid/gegenereerd
    (None for ``nvt``)."""
    out = []
    for column in value_columns(table):
        for i in range(len(table)):
            state = cell_state(table, column, i)
            out.append((state, None if state == "nvt" else kind_of(table, column, i)))
    return out


def count_cells(tables) -> dict[str, int]:
    """Cells of the case tables by what they show: ``cellen`` (all), ``cbs``, ``afgeleid``, ``gegenereerd``
    (cells with a number, by provenance), ``geen`` ("–", no value from CBS) and ``nvt`` ("x")."""
    counts = dict.fromkeys(("cellen", *KINDS, "geen", "nvt"), 0)
    for table in tables:
        for state, kind in table_cells(table):
            counts["cellen"] += 1
            counts[kind if state == "value" else state] += 1
    return counts


def tabel1_table_html(frame: pd.DataFrame) -> str:
    """Tabel 1 (pipeline.case.tables.tabel1: one column per case, its size class and references) as an HTML table."""
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in frame.columns)
    rows = "".join("<tr>" + f'<th scope="row">{html.escape(str(idx))}</th>'
                   + "".join(f"<td>{html.escape(v)}</td>" for v in row.values) + "</tr>"
                   for idx, row in frame.iterrows())
    return (f'<table class="h6-table tabel1"><caption>{html.escape(TABEL1_CAPTION)}</caption>'
            f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{rows}</tbody></table>')

