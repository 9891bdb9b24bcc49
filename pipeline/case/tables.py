"""Per-case selection and tabulation: chapter 6's two tables for one case, from the processed data.

A notebook calls :func:`load_case` once and then :func:`lasten_table`, :func:`gebruik_table` and
:func:`tabel1`; nothing here fetches or recomputes an indicator: every number is read from
``data/processed`` as ``build`` wrote it. Values stay numeric here; :mod:`pipeline.case.formatting`
turns them into Dutch text for display.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import CBS_SIZE_CLASSES, Case, StudyConfig, load_config
from pipeline.case.formatting import whole
from pipeline.errors import UnknownMunicipalityError
from pipeline.processed import KIND_SUFFIX, NEDERLAND, Processed, at_half_year

@dataclass
class CaseContext:
    config: StudyConfig
    case: Case
    data: Processed

    @property
    def name(self) -> str:
        return municipality_name(self.data, self.case.code)

    @property
    def references(self) -> list[str]:
        return list(self.case.references)


def municipality_name(data: Processed, code: str) -> str:
    names = data.names
    if code not in names.index:
        raise UnknownMunicipalityError(f"{code} is not a municipality of the snapshot's classification; "
                                       "see data/processed/gemeenten.csv for valid codes")
    return names[code]


def load_case(code: str, config_path: str | Path | None = None) -> CaseContext:
    """Case ``code`` (a code or a name) with the processed data it is read from.

    A configured case keeps its Tabel 1 reference group; any other municipality of the snapshot
    gets an automatic one (:mod:`pipeline.case.selection`).
    """
    from pipeline.case.selection import case_for, resolve_municipality

    config = load_config(config_path) if config_path else load_config()
    data = Processed.read(config.processed_dir)
    case = case_for(resolve_municipality(str(code), data.gemeenten), config, data.gemeenten)
    for ref in (case.code, *case.references):
        municipality_name(data, ref)
    return CaseContext(config=config, case=case, data=data)


def _column_names(config: StudyConfig) -> dict[str, str]:
    p = config.periods
    base, current = p.jeugdhulp_base, p.jeugdhulp_current
    return {
        "lasten_per_gebruiker": f"lasten_per_gebruiker_{p.iv3_rekening_year}",
        "lasten_per_inwoner": f"lasten_per_inwoner_{p.iv3_rekening_year}",
        "pct_base": f"pct_zonder_verblijf_{base.year}hj{base.half}",
        "pct_current": f"pct_zonder_verblijf_{current.year}hj{current.half}",
    }


def _deciles(ctx: CaseContext, codes: list[str]) -> pd.DataFrame:
    ses = ctx.data.ses.set_index("code")
    columns = ["ses_deciel", "armoede_deciel"]
    return ses.reindex(codes)[columns + [f"{c}{KIND_SUFFIX}" for c in columns]]


def _row_order(ctx: CaseContext, middle: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(row code, label, kind): the case first in capitals, then aggregates, then the references."""
    case = [(ctx.case.code, ctx.name.upper(), "casus")]
    refs = [(code, municipality_name(ctx.data, code), "referentie") for code in ctx.references]
    return case + middle + refs


def _row_columns(rows: list[tuple[str, str, str]], deciles: pd.DataFrame) -> dict:
    """The first columns of Tabel 2-11: row code, label and kind, then the SES and armoede deciles."""
    return {"rij_code": [code for code, _, _ in rows], "rij_label": [label for _, label, _ in rows],
            "soort": [kind for _, _, kind in rows], "ses_deciel": deciles["ses_deciel"].values,
            "armoede_deciel": deciles["armoede_deciel"].values}


def lasten_table(ctx: CaseContext) -> pd.DataFrame:
    """Tabel 2/4/6/8/10: lasten jeugdzorg and SES for the case, its size class, Nederland and references."""
    names = _column_names(ctx.config)
    size = ctx.case.size_class
    rows = _row_order(ctx, [(f"size:{size}", size, "grootteklasse"), (NEDERLAND, "Nederland", "nederland")])
    lasten = ctx.data.lasten.set_index("code")
    codes = [code for code, _, _ in rows]
    deciles = _deciles(ctx, codes)
    lasten = lasten.reindex(codes)
    table = pd.DataFrame({
        **_row_columns(rows, deciles),
        names["lasten_per_gebruiker"]: lasten["lasten_per_gebruiker"].values,
        names["lasten_per_inwoner"]: lasten["lasten_per_inwoner_rekening"].values,
        "index_lasten_per_inwoner": lasten["index_lasten_per_inwoner"].values,
    })
    kinds = {"ses_deciel": deciles["ses_deciel_herkomst"], "armoede_deciel": deciles["armoede_deciel_herkomst"],
             names["lasten_per_gebruiker"]: lasten["lasten_per_gebruiker_herkomst"],
             names["lasten_per_inwoner"]: lasten["lasten_per_inwoner_rekening_herkomst"],
             "index_lasten_per_inwoner": lasten["index_lasten_per_inwoner_herkomst"]}
    # the report prints "x" for lasten per gebruiker of a size class: it is left out here too (no value, no kind)
    size_rows = (table["soort"] == "grootteklasse").to_numpy()
    table.loc[size_rows, names["lasten_per_gebruiker"]] = float("nan")
    kinds[names["lasten_per_gebruiker"]] = [None if left_out else kind for left_out, kind in
                                            zip(size_rows, kinds[names["lasten_per_gebruiker"]])]
    return with_markers(with_kinds(table, kinds), ctx, ctx.case.table_lasten)


def gebruik_table(ctx: CaseContext) -> pd.DataFrame:
    """Tabel 3/5/7/9/11: % youth with jeugdhulp zonder verblijf, base and current half year, and the index."""
    names = _column_names(ctx.config)
    p = ctx.config.periods
    middle = [(NEDERLAND, "Nederland", "nederland")]
    if ctx.case.jeugdregio:
        regions = ctx.data.gemeenten.drop_duplicates("jeugdregio_code").set_index("jeugdregio_code")["jeugdregio_naam"]
        middle.append((ctx.case.jeugdregio, regions.get(ctx.case.jeugdregio, ctx.case.jeugdregio), "jeugdregio"))
    rows = _row_order(ctx, middle)
    codes = [code for code, _, _ in rows]
    def at(period, column):
        return at_half_year(ctx.data.jeugdhulp, period, column).reindex(codes).values

    deciles = _deciles(ctx, codes)
    table = pd.DataFrame({
        **_row_columns(rows, deciles),
        names["pct_base"]: at(p.jeugdhulp_base, "pct_zonder_verblijf"),
        names["pct_current"]: at(p.jeugdhulp_current, "pct_zonder_verblijf"),
        "index_pct_zonder_verblijf": at(p.jeugdhulp_current, "index_zonder_verblijf"),
    })
    kinds = {"ses_deciel": deciles["ses_deciel_herkomst"], "armoede_deciel": deciles["armoede_deciel_herkomst"],
             names["pct_base"]: at(p.jeugdhulp_base, "pct_zonder_verblijf_herkomst"),
             names["pct_current"]: at(p.jeugdhulp_current, "pct_zonder_verblijf_herkomst"),
             "index_pct_zonder_verblijf": at(p.jeugdhulp_current, "index_zonder_verblijf_herkomst")}
    return with_markers(with_kinds(table, kinds), ctx, ctx.case.table_gebruik)


MARKERS = ("#", "-")  # printed after a value (footnote) / instead of a value (the report leaves the cell empty)
MARKER_KEY = "markers"  # table.attrs[MARKER_KEY]: {(rij_code, column): marker}


def report_markers(config: StudyConfig, number: int | None) -> dict[tuple[str, str], str]:
    """The report's own markers in Tabel ``number``, from the transcription (cells as printed):
    ``#`` after a value (Tabel 4, Amersfoort: a figure from the municipal annual accounts) and ``-``
    where the report leaves a cell empty. ``x`` (not applicable) is handled by the table itself."""
    from pipeline.data.published import GEBRUIK_FILE, LASTEN_FILE, VALUE_COLUMNS

    if not number:
        return {}
    found = {}
    for name in (LASTEN_FILE, GEBRUIK_FILE):
        path = config.published_dir / name
        if not path.exists():
            continue
        for row in printed_rows(path, number):
            for column in VALUE_COLUMNS[name]:
                text = (row.get(column) or "").strip()
                if text == "-":
                    found[(row["rij_code"], column)] = "-"
                elif text.endswith("#"):
                    found[(row["rij_code"], column)] = "#"
    return found


def with_markers(table: pd.DataFrame, ctx: "CaseContext", number: int | None) -> pd.DataFrame:
    """Attach the report's markers of this table (``table.attrs``; the CSV keeps plain numbers)."""
    if ctx.case.automatic:
        return table
    table.attrs[MARKER_KEY] = {key: marker for key, marker in report_markers(ctx.config, number).items()
                               if key[0] in set(table["rij_code"])}
    return table


def report_notes(config: StudyConfig, number: int | None) -> list[tuple[str, str]]:
    """(marker, text) of the notes the report prints with Tabel ``number`` (``hoofdstuk6_noten.csv``)."""
    path = config.published_dir / NOTES_FILE
    if not number or not path.exists():
        return []
    return [(row["teken"], row["tekst"]) for row in printed_rows(path, number)]


def printed_rows(path: Path, number: int) -> list[dict[str, str]]:
    """The rows of a transcription of the report (``data/external/published``) that belong to Tabel ``number``,
    every cell as printed (text, "" when empty). Read with the csv module: the files are a few kB, which
    pandas takes ~4 ms to read and the csv module a tenth of that, and every case table reads them."""
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle, restval="") if row["tabel"] == str(number)]


NOTES_FILE = "hoofdstuk6_noten.csv"


def with_kinds(table: pd.DataFrame, kinds: dict) -> pd.DataFrame:
    """The table with, after its value columns, a column ``<value>_herkomst`` each (cbs, afgeleid, gegenereerd)."""
    for column, values in kinds.items():
        table[f"{column}{KIND_SUFFIX}"] = list(values)
    return table


def value_columns(table: pd.DataFrame) -> list[str]:
    """The columns of a case table that hold values (not the row labels, not the provenance columns)."""
    return [c for c in table.columns if c not in ("rij_code", "rij_label", "soort") and not c.endswith(KIND_SUFFIX)]


def index_series(ctx: CaseContext) -> pd.DataFrame:
    """Figure data: index % jeugdhulp zonder verblijf per half year from the base period on, one column per line."""
    p = ctx.config.periods
    jh = ctx.data.jeugdhulp
    jh = jh[jh["halfjaar"].notna()]
    jh = jh[(jh["jaar"] * 2 + jh["halfjaar"]) >= (p.jeugdhulp_base.year * 2 + p.jeugdhulp_base.half)]
    lines = [ctx.case.code, NEDERLAND] + ([ctx.case.jeugdregio] if ctx.case.jeugdregio else []) + ctx.references
    sel = jh[jh["code"].isin(lines)].copy()
    sel["periode_label"] = sel["jaar"].astype(int).astype(str) + "HJ" + sel["halfjaar"].astype(int).astype(str) \
        + sel["voorlopig"].map({True: "*", False: ""})
    wide = sel.pivot_table(index=["jaar", "halfjaar", "periode_label"], columns="code", values="index_zonder_verblijf")
    wide = wide.reset_index().sort_values(["jaar", "halfjaar"]).set_index("periode_label")
    return wide[[c for c in lines if c in wide.columns]]


def line_labels(ctx: CaseContext) -> dict[str, str]:
    labels = {ctx.case.code: ctx.name, NEDERLAND: "Nederland"}
    if ctx.case.jeugdregio:
        regions = ctx.data.gemeenten.drop_duplicates("jeugdregio_code").set_index("jeugdregio_code")["jeugdregio_naam"]
        labels[ctx.case.jeugdregio] = f"{regions.get(ctx.case.jeugdregio)} (jeugdregio)"
    for code in ctx.references:
        labels[code] = municipality_name(ctx.data, code)
    return labels


def size_class_bounds(config: StudyConfig, label: str):
    """Bounds of a size class label: the report's own classes first, then CBS's."""
    if label in config.size_classes:
        return config.size_classes[label]
    return next(c for c in CBS_SIZE_CLASSES if c.label == label)


def kerncijfers(ctx: CaseContext) -> pd.DataFrame:
    """The indicators the chapter's text cites, for the case, Nederland, its region and its references."""
    codes = [ctx.case.code, NEDERLAND] + ([ctx.case.jeugdregio] if ctx.case.jeugdregio else []) + ctx.references
    frame = ctx.data.kerncijfers.set_index("code").reindex(codes)
    frame.insert(0, "rij_label", [ctx.name.upper()] + list(frame["naam"].iloc[1:]))
    return frame.reset_index()


REPORT_NAMES = {"Den Haag": "'s-Gravenhage", "Horst a/d Maas": "Horst aan de Maas", "West-Betuwe": "West Betuwe"}


def tabel1_order(config: StudyConfig, data: Processed) -> list[tuple[Case, list[str]]]:
    """The cases and their references in the order Tabel 1 prints them (columns DEVENTER, ZALTBOMMEL,
    ROOSENDAAL, PEEL EN MAAS, UTRECHT; Roosendaal's column Bergen op Zoom, Breda, Goes, Dordrecht), read
    from the transcription; a case or reference the transcription does not name keeps the config's order
    (after the printed ones), so a changed config still gets a complete Tabel 1."""
    from pipeline.data.published import TABEL1_FILE

    cases = list(config.cases)
    path = config.published_dir / TABEL1_FILE
    if not path.exists():
        return [(case, list(case.references)) for case in cases]
    printed = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = list(dict.fromkeys(printed["casus"]))
    by_name = {municipality_name(data, case.code).upper(): case for case in cases}
    ordered = [by_name[c] for c in columns if c in by_name] + [c for c in cases if c not in
                                                                [by_name.get(n) for n in columns]]
    out = []
    for case in ordered:
        names = {municipality_name(data, code): code for code in case.references}
        rows = printed.loc[printed["casus"] == municipality_name(data, case.code).upper(), "referentiegemeente"]
        refs = [names[REPORT_NAMES.get(n, n)] for n in rows if REPORT_NAMES.get(n, n) in names]
        out.append((case, refs + [code for code in case.references if code not in refs]))
    return out


def tabel1(config: StudyConfig, data: Processed) -> pd.DataFrame:
    """Tabel 1: the cases with their size class and reference municipalities, one column per case, in the
    report's column and row order (:func:`tabel1_order`)."""
    columns = {}
    for case, references in tabel1_order(config, data):
        name = municipality_name(data, case.code).upper()
        bounds = size_class_bounds(config, case.size_class)
        columns[name] = [f"{whole(bounds.min)}-{whole(bounds.max)}"] + \
            [municipality_name(data, code) for code in references]
    depth = max(len(v) for v in columns.values())
    frame = pd.DataFrame({k: v + [""] * (depth - len(v)) for k, v in columns.items()})
    frame.index = ["grootteklasse"] + [""] * (depth - 1)
    return frame


def has_provisional(ctx: CaseContext) -> bool:
    return bool(at_half_year(ctx.data.jeugdhulp, ctx.config.periods.jeugdhulp_current, "voorlopig").any())


def case_tables(config: StudyConfig, data: Processed) -> list[tuple[int, str, CaseContext, pd.DataFrame]]:
    """(table number, kind, case, table) for Tabel 2-11, in the order of the report."""
    out = []
    for case in config.cases:
        ctx = CaseContext(config=config, case=case, data=data)
        if case.table_lasten:
            out.append((case.table_lasten, "lasten", ctx, lasten_table(ctx)))
        if case.table_gebruik:
            out.append((case.table_gebruik, "gebruik", ctx, gebruik_table(ctx)))
    return sorted(out, key=lambda item: item[0])


def overview_frame(config: StudyConfig, data: Processed) -> pd.DataFrame:
    """One row per municipality with the key indicators (all municipalities; the page picks the run ones)."""
    p = config.periods
    jh = data.jeugdhulp[data.jeugdhulp["unit_type"] == "gemeente"]

    def at(period, column):
        return at_half_year(jh, period, column)

    def with_kinds(columns):
        return columns + [f"{c}{KIND_SUFFIX}" for c in columns]

    frame = data.gemeenten.set_index("code")[["naam", "provincie", "jeugdregio_naam", "grootteklasse", "inwoners"]]
    frame = frame.join(data.ses.set_index("code")[with_kinds(["ses_deciel", "armoede_deciel"])])
    frame = frame.join(data.lasten.set_index("code")[with_kinds(["lasten_per_gebruiker", "lasten_per_inwoner_rekening",
                                                                 "index_lasten_per_inwoner"])])
    for name, period, column in (("pct_basis", p.jeugdhulp_base, "pct_zonder_verblijf"),
                                 ("pct_actueel", p.jeugdhulp_current, "pct_zonder_verblijf"),
                                 ("index_zonder_verblijf", p.jeugdhulp_current, "index_zonder_verblijf")):
        frame[name] = at(period, column)
        frame[f"{name}{KIND_SUFFIX}"] = at(period, f"{column}{KIND_SUFFIX}")
    frame = frame.join(data.kerncijfers.set_index("code")[with_kinds(["deciel_zonder_verblijf_voor_covid",
                                                                      "pct_met_verblijf_actueel"])])
    return frame
