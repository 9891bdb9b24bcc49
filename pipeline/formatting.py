"""Dutch number formatting and the HTML of the report tables ("€ 10.143", "8,1%", "x").

Numbers are rounded half up at the precision the report prints: whole euros, one-decimal
percentages, whole index points and deciles.
"""

from __future__ import annotations

import html

import pandas as pd

from .indicators import round_half_up

MISSING = "x"


def _grouped(value: float, decimals: int) -> str:
    text = f"{round_half_up(value, decimals):,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def euro(value) -> str:
    return MISSING if pd.isna(value) else f"€ {_grouped(value, 0)}"


def percent(value) -> str:
    return MISSING if pd.isna(value) else f"{_grouped(value, 1)}%"


def whole(value) -> str:
    return MISSING if pd.isna(value) else _grouped(value, 0)


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
    """The table as printed: row labels as index, Dutch headers, formatted text cells."""
    names = headers(config)
    values = [c for c in table.columns if c in names]
    out = pd.DataFrame({names[c]: table[c].map(formatter_for(c)) for c in values})
    out.index = table["rij_label"].values
    out.index.name = None
    return out


KIND_SUFFIX = "_herkomst"
KIND_TITLES = {
    "cbs": "CBS-cijfer",
    "afgeleid": "afgeleid uit echte CBS-cijfers (zie Bronnen: hoe)",
    "gegenereerd": "berust op gegenereerde demo-waarden, gekalibreerd op het rapport — geen CBS-cijfer",
}


def kind_of(table: pd.DataFrame, column: str, row: int) -> str:
    """The provenance kind of one cell of a case table (``cbs`` when the table carries none)."""
    kinds = table.get(f"{column}{KIND_SUFFIX}")
    value = kinds.iloc[row] if kinds is not None else None
    return value if isinstance(value, str) else "cbs"


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
        cells = []
        for column, value in zip(columns, row.values):
            origin = kind_of(table, column, i)
            cells.append(f'<td class="num kind-{origin}" title="{html.escape(KIND_TITLES[origin])}">'
                         f"{html.escape(value)}</td>")
        body.append(f'<tr class="{kind}"><th scope="row">{html.escape(str(label))}</th>{"".join(cells)}</tr>')
    return (f'<table class="h6-table"><caption>{html.escape(caption)}</caption>'
            f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def provenance_legend_html(kinds) -> str:
    """The legend under a table: which marking means generated or derived (only the kinds that occur)."""
    items = []
    if "gegenereerd" in kinds:
        items.append('<span class="kind-gegenereerd">grijs en cursief</span>: berust op gegenereerde demo-waarden '
                     "(gekalibreerd op het rapport), geen CBS-cijfer")
    if "afgeleid" in kinds:
        items.append('<span class="kind-afgeleid">stippellijn</span>: afgeleid uit echte CBS-cijfers '
                     "(andere CBS-tabel of herleid uit fusiegemeenten; zie Bronnen)")
    if not items:
        return ""
    return '<p class="legend">' + "; ".join(items) + "; overige cijfers: CBS.</p>"


def table_kinds(table: pd.DataFrame) -> set[str]:
    """The provenance kinds that occur among a case table's values."""
    return {v for c in table.columns if c.endswith(KIND_SUFFIX) for v in table[c].dropna()}


def footnotes(config) -> str:
    p = config.periods
    return (f"* SES-deciel op basis van mediaan gestandaardiseerd inkomen huishoudens {p.income_year} volgens "
            f"gemeenten {p.classification_year} CBS, laag deciel is laag inkomen. "
            f"** Kinderen in armoede deciel op basis van laag en langdurig laag inkomen {p.income_year} volgens "
            f"gemeenten {p.classification_year} CBS, laag deciel duidt op veel kinderen in armoede.")
