"""Reproduction check: every computed chapter-6 cell side by side with the published one, by provenance.

Every computed cell carries the provenance of its inputs (``<column>_herkomst`` of the case tables,
docs/shapes.md section 3). Only cells computed from real data alone (``cbs``, ``afgeleid``) say
anything about the report; ``gegenereerd`` cells come from a demo generator that was calibrated to
the printed values, so a match there proves nothing ("gekalibreerd: zegt niets over het rapport").
Counts, the summary line and the page keep the two apart.

Tolerance by provenance:

* ``cbs`` cells and ``gegenereerd`` cells: at the printed precision (deciles, euros and indices as
  whole numbers, percentages with one decimal, half up);
* ``afgeleid`` percentages (% jeugdhulp zonder verblijf 2015-2017 from 83432NED): within
  :data:`DERIVATION_MARGIN` percentage points of the printed value. 83432NED publishes counts rounded
  to 5 and a relative figure with one decimal; the derivation adds two rounded counts (alleen ZIN +
  ZIN en pgb, ±5) over a youth base implied from a rounded count and a rounded percentage, so for a
  case municipality (300-1.000 youths, 5-10%) the derived percentage carries about ±0.1 pp beyond
  the printed rounding. Such a cell has status ``match (binnen afleidingsmarge)``, counted apart.
  An index printed next to an ``afgeleid`` base is consistent with it when it lies within
  (printed current ± 0.05) / (computed base ∓ margin) x 100.

Findings kept apart from data differences (``errata.csv``, column ``soort``):

* **misdruk (uit data)**: a printed base percentage that differs from the real one beyond the margin,
  while the printed index agrees with printed current / real base and not with printed current /
  printed base: the printed percentage is the misprint, not the index (Peel en Maas, Tabel 9);
* **index vs gedrukte percentages**: an index that contradicts its two printed percentages without
  real data to say which of the three is wrong;
* **zelfde rij, andere waarde**: one row printed in two tables with different values;
* **tekst vs gedrukte tabel**: a claim of the prose (pipeline.check.prose) that fails on the printed tables
  themselves;
* **andere noemers dan CBS** (not an erratum): a row whose printed lasten per gebruiker and per inwoner
  imply an inhabitants/users ratio that the CBS users (84134NED) and inhabitants (03759ned) do not
  have: no lasten amount reproduces both, the report used other denominators.

A data difference is explained by a misprint found from the data, by "andere noemers", or by a reason
in the reviewed file ``data/external/published/expected_differences.csv``; anything else (real or
generated) fails ``python -m pipeline validate`` with exit code 3. The prose claims are checked too
(:func:`pipeline.check.prose.check_prose`): a claim resting on real data that fails needs a reason in
``expected_prose.csv``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.case.tables import case_tables
from pipeline.config import StudyConfig
from pipeline.errors import PipelineError
from pipeline.case.formatting import grouped, printed_decimals
from pipeline.build.indicators import round_half_up
from pipeline.iorw import write_csv, write_text
from pipeline.processed import GENERATED, KIND_SUFFIX, Processed
from pipeline.data.published import PUBLISHED_DIR, VALUE_COLUMNS, published_gebruik, published_lasten
from pipeline.check.summary import SUMMARY_FILE

EXPECTED_FILE = "expected_differences.csv"
EXPECTED_PROSE_FILE = "expected_prose.csv"
PROSE_FILE = "validation_tekst.csv"
CHOICES_FILE = "validation_keuzes.csv"
TABEL1_CHECK_FILE = "validation_tabel1.csv"
TABEL1_COLUMNS = ["kolom", "rij", "gedrukt", "berekend", "status"]
MATCH, MATCH_MARGIN = "match", "match (binnen afleidingsmarge)"
DIFFERS, NOT_PUBLISHED, NOT_COMPUTABLE = "differs", "not published", "not computable"
REAL_KINDS = ("cbs", "afgeleid")
DERIVATION_MARGIN = 0.1          # percentage points, for afgeleid percentages (see module docstring)
EPS = 1e-9
# how a difference is explained
BY_REVIEW, BY_ERRATUM, BY_DENOMINATORS = "beoordeeld", "erratum", "andere noemers"
# kinds of findings (errata.csv, column soort)
MISPRINT, INDEX_SELF, DUPLICATE, PROSE_TABLE, DENOMINATORS = (
    "misdruk (uit data)", "index vs gedrukte percentages", "zelfde rij, andere waarde", "tekst vs gedrukte tabel",
    "andere noemers dan CBS")
ERRATUM_KINDS = (MISPRINT, INDEX_SELF, DUPLICATE, PROSE_TABLE)
CELL_COLUMNS = ["tabel", "rij_code", "rij_label", "kolom", "gepubliceerd_gedrukt", "gepubliceerd", "berekend",
                "berekend_afgerond", "verschil", "herkomst", "marge", "status", "verwacht", "verklaring", "reden",
                "toets_echte_basis"]
ERRATA_COLUMNS = ["soort", "tabel", "rij_code", "rij_label", "kolom", "gedrukt", "echte_waarde",
                  "verwacht_uit_gedrukte_waarden", "toelichting", "bewijs"]
CHOICE_COLUMNS = ["keuze", "optie", "gekozen", "herkomst", "cellen", "gelijk", "omgeslagen"]


class ValidationError(PipelineError):
    """Computed cells differ from the report without a reviewed explanation."""

    exit_code = 3


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def nl(value: float, decimals: int = 1) -> str:
    """A number the Dutch way: 5,8 / 101,7 / 13.358."""
    return grouped(value, decimals)


# ---------------------------------------------------------------------------------------------
# Tolerance by provenance


def margin_for(column: str, kind: str | None) -> float:
    """Tolerance beyond the printed rounding: the derivation margin for afgeleid percentages, else 0."""
    return DERIVATION_MARGIN if kind == "afgeleid" and printed_decimals(column) == 1 else 0.0


def compare_cell(printed: float | None, computed: float | None, decimals: int,
                 margin: float = 0.0) -> tuple[str, float | None, float | None]:
    """(status, computed rounded as printed, difference) for one cell.

    Equal at the printed precision: ``match``; otherwise within ``margin`` (afgeleid cells):
    ``match (binnen afleidingsmarge)``; otherwise ``differs``.
    """
    printed_missing, computed_missing = _missing(printed), _missing(computed)
    if printed_missing:
        return NOT_PUBLISHED, (None if computed_missing else round_half_up(computed, decimals)), None
    if computed_missing:
        return NOT_COMPUTABLE, None, None
    rounded = round_half_up(float(computed), decimals)
    difference = round(rounded - float(printed), decimals)
    if difference == 0:
        return MATCH, rounded, difference
    if margin and abs(difference) <= margin + EPS:
        return MATCH_MARGIN, rounded, difference
    return DIFFERS, rounded, difference


def index_bounds(current: float, base: float, base_margin: float = 0.0, current_margin: float = 0.05
                 ) -> tuple[float, float]:
    """Smallest and largest index (current / base x 100) for a printed current percentage (± its rounding)
    and a base known to ± ``base_margin`` (0.05 for a printed one-decimal base)."""
    low = (current - current_margin) / (base + base_margin) * 100
    high = (current + current_margin) / (base - base_margin) * 100 if base > base_margin else math.inf
    return low, high


def index_consistent(index: float, current: float, base: float, base_margin: float) -> bool:
    """Whether a whole-number printed index can come from current / base within those margins."""
    low, high = index_bounds(current, base, base_margin)
    return round_half_up(low) <= index <= round_half_up(high)


def _bounds_index(numerator: float, denominator: float) -> tuple[float, float]:
    """Smallest and largest index consistent with two percentages printed with one decimal."""
    return index_bounds(numerator, denominator, 0.05)


# ---------------------------------------------------------------------------------------------
# Inputs


def load_expected(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    """The reviewed list of known differences: tabel, rij_code, kolom, reden."""
    path = Path(directory) / EXPECTED_FILE
    frame = pd.read_csv(path, dtype={"tabel": int, "rij_code": str, "kolom": str, "reden": str})
    if frame["reden"].isna().any() or (frame["reden"].str.strip() == "").any():
        raise ValidationError(f"{path}: every expected difference needs a reason; fill in the reden column")
    return frame


def load_expected_prose(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    """The reviewed list of prose claims on real data that fail: id, reden (no file: none)."""
    path = Path(directory) / EXPECTED_PROSE_FILE
    if not path.exists():
        return pd.DataFrame(columns=["id", "reden"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if (frame["reden"].str.strip() == "").any():
        raise ValidationError(f"{path}: every expected prose result needs a reason; fill in the reden column")
    return frame


def computed_tables(config: StudyConfig, data: Processed | None = None) -> dict[int, pd.DataFrame]:
    """The case tables exactly as the case notebooks build them, keyed by table number."""
    data = data or Processed.read(config.processed_dir)
    return {number: table for number, _, _, table in case_tables(config, data)}


def real_values(computed: dict[int, pd.DataFrame], column: str) -> dict[str, float]:
    """Row code -> computed value of ``column`` where it rests on real data only (cbs or afgeleid)."""
    out = {}
    for table in computed.values():
        if column not in table.columns:
            continue
        kinds = table.get(f"{column}{KIND_SUFFIX}", pd.Series([None] * len(table)))
        for code, value, kind in zip(table["rij_code"], table[column], kinds):
            if kind in REAL_KINDS and not _missing(value):
                out[code] = float(value)
    return out


# ---------------------------------------------------------------------------------------------
# Cells


def compare(computed: dict[int, pd.DataFrame], published: pd.DataFrame, expected: pd.DataFrame,
            base_column: str | None = None, current_column: str | None = None) -> pd.DataFrame:
    """One row per published cell (and per computed cell the report leaves out), with provenance, margin and
    status; a reviewed reason marks it ``verwacht``. With the base and current columns, every printed index
    gets ``toets_echte_basis``: whether it agrees with printed current / real base (± the margin)."""
    known = {(int(t), r, k): reason for t, r, k, reason in
             zip(expected["tabel"], expected["rij_code"], expected["kolom"], expected["reden"])}
    real_base = real_values(computed, base_column) if base_column else {}
    rows = []
    for number, pub in published.groupby("tabel", sort=True):
        pub = pub.set_index("rij_code")
        mine = computed.get(number)
        mine = mine.set_index("rij_code") if mine is not None else pd.DataFrame()
        # only the columns printed in this table (the two table kinds are read from different files); each cell is
        # read with .at (a row code is printed once per table), a fraction of the cost of .loc
        complete = pub.notna().all()
        columns = [c for c in pub.columns if f"{c}_gedrukt" in pub.columns and complete[f"{c}_gedrukt"]]
        for code in pub.index:
            for column in columns:
                printed = pub.at[code, column]
                has = code in mine.index and column in mine.columns
                value = mine.at[code, column] if has else None
                kind_column = f"{column}{KIND_SUFFIX}"
                kind = mine.at[code, kind_column] if has and kind_column in mine.columns else None
                kind = kind if isinstance(kind, str) and kind else ""
                margin = margin_for(column, kind)
                status, rounded, difference = compare_cell(printed, value, printed_decimals(column), margin)
                reason = known.get((number, code, column), "")
                text = pub.at[code, f"{column}_gedrukt"]
                if not reason and status == NOT_PUBLISHED:
                    reason = f"report prints {text!r}"
                if not reason and status == NOT_COMPUTABLE:
                    reason = "no value in the processed data"
                if not reason and status == MATCH_MARGIN:
                    reason = (f"afgeleid: {nl(rounded)} vs gedrukt {nl(printed)}, verschil "
                              f"{nl(abs(difference))} binnen de afleidingsmarge ±{nl(margin)} pp")
                if "#" in str(text) and not reason:
                    reason = "report footnote #: figure taken from the municipality's annual accounts"
                check = ""
                if column == "index_pct_zonder_verblijf" and code in real_base and base_column \
                        and current_column and not _missing(printed) and not _missing(pub.at[code, current_column]):
                    cur, base = float(pub.at[code, current_column]), real_base[code]
                    base_kind = mine.at[code, f"{base_column}{KIND_SUFFIX}"] \
                        if f"{base_column}{KIND_SUFFIX}" in mine.columns else ""
                    base_margin = margin_for(base_column, base_kind) or 0.05
                    low, high = index_bounds(cur, base, base_margin)
                    ok = index_consistent(float(printed), cur, base, base_margin)
                    check = (f"{'past' if ok else 'past niet'}: gedrukt {nl(cur)} / echte basis {nl(base)} "
                             f"(±{nl(base_margin, 2)}) x 100 = {nl(cur / base * 100)} ({nl(low)}-{nl(high)})")
                    # an index on an afgeleid base is consistent when the printed index lies within printed
                    # current / (computed base ± margin) x 100: its miss is the base's derivation margin
                    if ok and status == DIFFERS and margin_for(base_column, base_kind):
                        status = MATCH_MARGIN
                        reason = (f"index op afgeleide basis: gedrukt {printed:.0f} ligt binnen gedrukt actueel "
                                  f"{nl(cur)} / (echte basis {nl(base)} ± {nl(base_margin)}) x 100 = "
                                  f"{nl(low)}-{nl(high)}")
                explained = (number, code, column) in known and status in (DIFFERS, NOT_COMPUTABLE)
                rows.append({"tabel": number, "rij_code": code, "rij_label": pub.at[code, "rij_label"],
                             "kolom": column, "gepubliceerd_gedrukt": text, "gepubliceerd": printed,
                             "berekend": value, "berekend_afgerond": rounded, "verschil": difference,
                             "herkomst": kind, "marge": margin, "status": status, "verwacht": explained,
                             "verklaring": BY_REVIEW if explained else "", "reden": reason,
                             "toets_echte_basis": check})
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Findings from the printed values (and the real data)


def _finding(**values) -> dict:
    return {column: values.get(column, "") for column in ERRATA_COLUMNS}


def find_errata(published: pd.DataFrame, base_column: str, current_column: str,
                real_base: dict[str, float] | None = None, margin: float = DERIVATION_MARGIN) -> pd.DataFrame:
    """Places where the printed report contradicts itself or the real data.

    1. For every printed row with base %, current % and index: if the real base (``real_base``, from
       cbs/afgeleid data) differs from the printed base beyond ``margin`` and the printed index agrees
       with printed current / real base but not with printed current / printed base, the printed base
       is a misprint (``misdruk (uit data)``), with the three numbers and both ratios as evidence.
    2. Otherwise an index that lies outside the range its two one-decimal printed percentages allow is a
       self-contradiction (``index vs gedrukte percentages``), the real base check added as evidence.
    3. A row printed in several tables must show the same values everywhere.
    """
    real_base = real_base or {}
    findings = []
    gebruik = published.dropna(subset=[base_column, current_column, "index_pct_zonder_verblijf"])
    for row in gebruik.itertuples():
        base, current = getattr(row, base_column), getattr(row, current_column)
        printed = row.index_pct_zonder_verblijf
        low, high = _bounds_index(current, base)
        self_ok = round_half_up(low) <= printed <= round_half_up(high)
        printed_ratio = f"{nl(current)} / {nl(base)} x 100 = {nl(current / base * 100)}"
        real = real_base.get(row.rij_code)
        evidence = (f"gedrukt: basis {nl(base)}%, actueel {nl(current)}%, index {printed:.0f}; "
                    f"{printed_ratio} ({nl(low)}-{nl(high)}: {'past' if self_ok else 'past niet'} bij "
                    f"{printed:.0f})")
        if real is not None:
            r_low, r_high = index_bounds(current, real, margin)
            real_ok = index_consistent(printed, current, real, margin)
            beyond = abs(round_half_up(real, 1) - base) > margin + EPS
            evidence += (f"; {nl(current)} / echte basis {nl(real)} x 100 = {nl(current / real * 100)} "
                         f"({nl(r_low)}-{nl(r_high)} met ±{nl(margin)} pp: {'past' if real_ok else 'past niet'} "
                         f"bij {printed:.0f})")
            if beyond and real_ok and not self_ok:
                findings.append(_finding(
                    soort=MISPRINT, tabel=row.tabel, rij_code=row.rij_code, rij_label=row.rij_label, kolom=base_column,
                    gedrukt=f"{nl(base)}%", echte_waarde=f"{nl(real)}%",
                    verwacht_uit_gedrukte_waarden=f"{nl(current / real * 100, 0)} (index uit echte basis)",
                    toelichting=(f"gedrukt {nl(base)}% spreekt echte CBS-waarde {nl(real)}% en de gedrukte index "
                                 f"{printed:.0f} tegen"),
                    bewijs=evidence))
                continue
        if not self_ok:
            findings.append(_finding(
                soort=INDEX_SELF, tabel=row.tabel, rij_code=row.rij_code, rij_label=row.rij_label,
                kolom="index_pct_zonder_verblijf", gedrukt=f"{printed:.0f}",
                echte_waarde="" if real is None else f"basis {nl(real)}%",
                verwacht_uit_gedrukte_waarden=f"{current / base * 100:.0f} ({low:.1f}-{high:.1f})",
                toelichting=f"{printed_ratio}, not {printed:.0f}", bewijs=evidence))
    value_columns = sorted({c for cols in VALUE_COLUMNS.values() for c in cols} & set(published.columns))
    labels = published.drop_duplicates("rij_code").set_index("rij_code")["rij_label"]
    # every printed value as one row (code, column, table, value): one pass instead of one per code and column
    printed = published.melt(id_vars=["rij_code", "tabel"], value_vars=value_columns, var_name="kolom",
                             value_name="waarde").dropna(subset=["waarde"])
    groups = printed.groupby(["rij_code", "kolom"], sort=True)
    distinct = groups["waarde"].nunique()
    for code, column in distinct.index[distinct > 1]:   # only rows with several values, in the groups' order
        values = groups.get_group((code, column))
        listed = ", ".join(f"Tabel {t}: {v:g}" for t, v in zip(values["tabel"], values["waarde"]))
        findings.append(_finding(soort=DUPLICATE, tabel=int(values["tabel"].iloc[0]), rij_code=code,
                                 rij_label=labels[code], kolom=column, gedrukt=listed,
                                 verwacht_uit_gedrukte_waarden="one value",
                                 toelichting="same row, different values", bewijs=listed))
    return pd.DataFrame(findings, columns=ERRATA_COLUMNS)


def find_denominator_findings(published: pd.DataFrame, lasten: pd.DataFrame, lpg_column: str, lpi_column: str
                              ) -> pd.DataFrame:
    """Rows whose printed lasten per gebruiker and per inwoner cannot rest on the CBS users and inhabitants.

    lasten per gebruiker / lasten per inwoner = inhabitants / users for any lasten amount; the printed pair
    (each ± 0.5 euro) allows a range of that ratio, and the real (cbs) users and inhabitants of lasten.csv
    must lie in it. If not, no lasten amount reproduces both printed cells.
    """
    frame = lasten.set_index("code")
    findings = []
    seen = set()
    for row in published.dropna(subset=[lpg_column, lpi_column]).itertuples():
        code = row.rij_code
        if code in seen or code not in frame.index:
            continue
        seen.add(code)
        x = frame.loc[code]
        if any(x.get(f"{c}{KIND_SUFFIX}") not in REAL_KINDS for c in ("gebruikers", "inwoners_rekening")) \
                or _missing(x.get("gebruikers")) or _missing(x.get("inwoners_rekening")) or not x["gebruikers"]:
            continue
        lpg, lpi = getattr(row, lpg_column), getattr(row, lpi_column)
        users, inhabitants = float(x["gebruikers"]), float(x["inwoners_rekening"])
        low, high = (lpg - 0.5) / (lpi + 0.5), (lpg + 0.5) / (lpi - 0.5)
        ratio = inhabitants / users
        if low - EPS <= ratio <= high + EPS:
            continue
        implied = lpg * users / inhabitants
        evidence = (f"gedrukt € {nl(lpg, 0)} per gebruiker x {nl(users, 0)} CBS-gebruikers / {nl(inhabitants, 0)} "
                    f"CBS-inwoners = € {nl(implied)} per inwoner, gedrukt € {nl(lpi, 0)}; gedrukt per gebruiker / per "
                    f"inwoner = {nl(lpg / lpi, 2)} ({nl(low, 2)}-{nl(high, 2)}), CBS inwoners / gebruikers = "
                    f"{nl(ratio, 2)}")
        text = ("geen lastenbedrag geeft beide gedrukte cellen: de twee lastencijfers van het rapport rusten niet op "
                "dezelfde gebruikers en inwoners als CBS")
        findings.append(_finding(soort=DENOMINATORS, tabel=row.tabel, rij_code=code, rij_label=row.rij_label,
                                 kolom=f"{lpg_column}/{lpi_column}", gedrukt=f"€ {nl(lpg, 0)} / € {nl(lpi, 0)}",
                                 echte_waarde=f"{nl(users, 0)} gebruikers, {nl(inhabitants, 0)} inwoners",
                                 verwacht_uit_gedrukte_waarden=f"€ {nl(implied)} per inwoner",
                                 toelichting=text, bewijs=evidence))
    return pd.DataFrame(findings, columns=ERRATA_COLUMNS)


def explain_by_findings(cells: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Mark differing cells explained by a finding from the data: the misprinted cell of a misprint, and a
    differing generated lasten cell of a row whose printed lasten rest on other denominators."""
    cells = cells.copy()
    for f in findings.itertuples():
        if f.soort == MISPRINT:
            hit = (cells["rij_code"] == f.rij_code) & (cells["kolom"] == f.kolom) & (cells["tabel"] == f.tabel)
            how = BY_ERRATUM
        elif f.soort == DENOMINATORS:
            hit = (cells["rij_code"] == f.rij_code) & cells["kolom"].isin(f.kolom.split("/"))
            how = BY_DENOMINATORS
        else:
            continue
        hit &= (cells["status"] == DIFFERS) & ~cells["verwacht"]
        cells.loc[hit, "verwacht"] = True
        cells.loc[hit, "verklaring"] = how
        cells.loc[hit, "reden"] = f"{f.soort}: {f.toelichting} ({f.bewijs})"
    return cells


# ---------------------------------------------------------------------------------------------
# Choices


def _weakest_kind(kinds) -> str:
    order = ("cbs", "afgeleid", GENERATED)
    present = [k for k in kinds if isinstance(k, str) and k]
    return max(present, key=lambda k: order.index(k) if k in order else len(order)) if present else ""


def choice_columns(config: StudyConfig) -> dict[str, str]:
    """keuzes.csv column -> published column."""
    p = config.periods
    cur = p.jeugdhulp_current
    return {"ses_deciel": "ses_deciel", "lasten_per_inwoner_rekening": f"lasten_per_inwoner_{p.iv3_rekening_year}",
            "index_lasten_per_inwoner": "index_lasten_per_inwoner",
            f"index_zonder_verblijf_{cur.year}hj{cur.half}": "index_pct_zonder_verblijf"}


def choice_effects(keuzes: pd.DataFrame, published: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Per choice and option: how many published cells the choice touches, how many match with that option,
    and which flip (match with the chosen option but not with this one, or the other way round)."""
    rows = []
    long = published.melt(id_vars=["tabel", "rij_code", "rij_label"],
                          value_vars=[c for c in set(columns.values()) | {c for c in keuzes["kolom"].unique()}
                                      if c in published.columns], var_name="kolom", value_name="gedrukt")
    long = long.dropna(subset=["gedrukt"])
    for choice, options in keuzes.groupby("keuze", sort=False):
        status = {}
        for option, group in options.groupby("optie", sort=False):
            values = group.assign(kolom=group["kolom"].map(lambda c: columns.get(c, c)))
            merged = long.merge(values[["code", "kolom", "waarde", "herkomst"]], left_on=["rij_code", "kolom"],
                                right_on=["code", "kolom"])
            status[option] = {
                (r.tabel, r.rij_code, r.kolom): compare_cell(r.gedrukt, r.waarde, printed_decimals(r.kolom),
                                                             margin_for(r.kolom, r.herkomst))[0] in (MATCH, MATCH_MARGIN)
                for r in merged.itertuples()}
            status[option]["__chosen__"] = bool(group["gekozen"].any())
            status[option]["__kind__"] = _weakest_kind(merged["herkomst"]) if len(merged) else _weakest_kind(group["herkomst"])
        chosen = next((o for o, s in status.items() if s["__chosen__"]), None)
        for option, cells in status.items():
            keys = [k for k in cells if not str(k).startswith("__")]
            flips = [] if chosen is None or option == chosen else \
                [k for k in keys if k in status[chosen] and cells[k] != status[chosen][k]]
            flipped = "; ".join(f"Tabel {t} {code} {kolom}: {'gelijk' if cells[(t, code, kolom)] else 'verschilt'}"
                                for t, code, kolom in sorted(flips))
            rows.append({"keuze": choice, "optie": option, "gekozen": option == chosen, "herkomst": cells["__kind__"],
                         "cellen": len(keys),
                         "gelijk": int(sum(cells[k] for k in keys)), "omgeslagen": flipped})
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Prose


def prose_results(config: StudyConfig, published: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prose claims on the processed data (with reviewed reasons) and the prose-vs-table errata."""
    from pipeline.check import prose

    results = prose.check_prose(config.processed_dir, config.published_dir, config)
    on_print = prose.check_prose_on_printed(config.published_dir, config).set_index("id")
    expected = load_expected_prose(config.published_dir).set_index("id")["reden"].to_dict()
    results["gedrukt_status"] = results["id"].map(on_print["status"]).fillna("")
    results["gedrukt_berekend"] = results["id"].map(on_print["berekend"]).fillna("")
    real = results["herkomst"].isin(REAL_KINDS)
    failing = results["status"].isin([prose.KLOPT_NIET, prose.NIET_BEREKENBAAR])
    results["verwacht"] = results["id"].isin(expected) & failing
    results["reden_beoordeeld"] = results["id"].map(expected).fillna("")
    results["bevinding"] = real & failing
    findings = []
    for r in results[results["gedrukt_status"] == prose.KLOPT_NIET].itertuples():
        findings.append(_finding(soort=PROSE_TABLE, tabel="", rij_code=r.casus, rij_label=r.id, kolom="tekst",
                                 gedrukt=r.geciteerd, verwacht_uit_gedrukte_waarden=r.gedrukt_berekend,
                                 toelichting=(f"de tekst zegt '{r.geciteerd}', de gedrukte tabellen geven "
                                              f"{r.gedrukt_berekend}"),
                                 bewijs=f"{r.zin} [{r.claim}]"))
    return results, pd.DataFrame(findings, columns=ERRATA_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Result


# ---------------------------------------------------------------------------------------------
# Tabel 1, cell by cell


def compare_tabel1(config: StudyConfig, data: Processed) -> pd.DataFrame:
    """Tabel 1 as computed (:func:`pipeline.case.tables.tabel1`: config and CBS names, in the report's order) against
    the transcription, cell by cell: the header of every column, the size class and every reference at its
    printed position. A printed name that is the CBS name under another spelling (Den Haag for
    's-Gravenhage) is ``gelijk (naam)``; anything else out of place is ``verschilt``."""
    from pipeline.case.tables import REPORT_NAMES, tabel1
    from pipeline.data.published import published_tabel1

    try:
        printed = published_tabel1(config.published_dir)
    except FileNotFoundError:
        return pd.DataFrame(columns=TABEL1_COLUMNS)
    computed = tabel1(config, data)
    printed_columns = list(dict.fromkeys(printed["casus"]))
    rows = []

    def status(text: str, mine: str) -> str:
        if text == mine:
            return "gelijk"
        return "gelijk (naam)" if REPORT_NAMES.get(text) == mine else "verschilt"

    width = max(len(printed_columns), len(computed.columns))
    for i in range(width):
        text = printed_columns[i] if i < len(printed_columns) else ""
        mine = computed.columns[i] if i < len(computed.columns) else ""
        rows.append({"kolom": i + 1, "rij": "kop", "gedrukt": text, "berekend": mine, "status": status(text, mine)})
        column = printed[printed["casus"] == text]
        cells = ([column["grootteklasse"].iloc[0]] if len(column) else []) + list(column["referentiegemeente"])
        ours = [v for v in computed[mine]] if mine else []
        ours = [v for v in ours if v != ""]
        for j in range(max(len(cells), len(ours))):
            a, b = (cells[j] if j < len(cells) else ""), (ours[j] if j < len(ours) else "")
            rows.append({"kolom": i + 1, "rij": "grootteklasse" if j == 0 else str(j), "gedrukt": a,
                         "berekend": b, "status": status(a, b)})
    return pd.DataFrame(rows, columns=TABEL1_COLUMNS)


@dataclass
class ValidationResult:
    cells: pd.DataFrame
    errata: pd.DataFrame
    prose: pd.DataFrame = field(default_factory=pd.DataFrame)
    choices: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHOICE_COLUMNS))
    tabel1: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TABEL1_COLUMNS))

    @property
    def published_cells(self) -> pd.DataFrame:
        return self.cells[self.cells["status"] != NOT_PUBLISHED]

    @property
    def unexplained(self) -> pd.DataFrame:
        bad = self.cells["status"].isin([DIFFERS, NOT_COMPUTABLE]) & ~self.cells["verwacht"].astype(bool)
        return self.cells[bad]

    @property
    def unexplained_prose(self) -> pd.DataFrame:
        if self.prose.empty or "bevinding" not in self.prose:
            return self.prose
        return self.prose[self.prose["bevinding"].astype(bool) & ~self.prose["verwacht"].astype(bool)]

    @property
    def true_errata(self) -> pd.DataFrame:
        if "soort" not in self.errata:
            return self.errata
        return self.errata[self.errata["soort"].isin(ERRATUM_KINDS)]

    def summary(self) -> str:
        n = self.counts()
        r, g, t = n["echt"], n["gegenereerd"], n["tekst"]
        errata = f"{n['errata']} {'erratum' if n['errata'] == 1 else 'errata'}"
        margin = f" ({r['binnen_marge']} within the derivation margin)" if r["binnen_marge"] else ""
        computable = f", {r['niet_berekenbaar']} not computable" if r["niet_berekenbaar"] else ""
        return (f"real data: {r['gelijk'] + r['binnen_marge']} of {r['gepubliceerd']} cells match{margin}, "
                f"{r['verklaard']} explained, {r['onverklaard']} unexplained{computable}; "
                f"generated (calibrated): {g['gelijk'] + g['binnen_marge']} of {g['gepubliceerd']}; "
                f"prose on real data: {t['echt_klopt']} of {t['echt']} hold, {t['echt_onverklaard']} unexplained; "
                f"{errata} in the report; {n['unexplained']} unexplained in all")

    def error(self) -> str | None:
        """The one-line error for unexplained differences (None when there are none)."""
        off = self.tabel1[self.tabel1["status"] == "verschilt"] if len(self.tabel1) else self.tabel1
        if len(off):
            first = off.iloc[0]
            return (f"Tabel 1 differs from the report in {len(off)} cells, first: column {first['kolom']} row "
                    f"{first['rij']}: printed {first['gedrukt']!r}, computed {first['berekend']!r}; fix the config "
                    "(cases, references, size classes) or the transcription (tabel1_referentiegroepen.csv)")
        cells, prose = self.unexplained, self.unexplained_prose
        if not len(cells) and not len(prose):
            return None
        if len(cells):
            real = cells[cells["herkomst"].isin(REAL_KINDS)] if "herkomst" in cells else cells
            first = (real if len(real) else cells).iloc[0]       # a real-data difference matters most
            where = (f"Tabel {first['tabel']} {first['rij_label']} {first['kolom']} ({first['herkomst'] or '?'}): "
                     f"printed {first['gepubliceerd_gedrukt']}, computed {first['berekend_afgerond']}; fix the cause "
                     f"or add it with a reason to data/external/published/{EXPECTED_FILE}")
        else:
            first = prose.iloc[0]
            where = (f"prose claim {first['id']} ({first['herkomst']}): '{first['geciteerd']}' {first['status']}, "
                     f"computed {first['berekend'] or first['reden']}; add it with a reason to "
                     f"data/external/published/{EXPECTED_PROSE_FILE}")
        return (f"{len(cells) + len(prose)} results differ from the report without a reviewed reason "
                f"({len(cells)} cells, {len(prose)} prose claims), first: {where}")

    def counts(self) -> dict:
        """Cells matched, published, explained; errata; unexplained; and the same split by provenance."""
        cells = self.published_cells
        verwacht = cells["verwacht"].astype(bool)
        kinds = cells["herkomst"] if "herkomst" in cells else pd.Series([""] * len(cells), index=cells.index)
        real, gen = cells[kinds.isin(REAL_KINDS)], cells[~kinds.isin(REAL_KINDS)]

        def split(part: pd.DataFrame) -> dict:
            v = part["verwacht"].astype(bool)
            return {"gepubliceerd": len(part), "gelijk": int((part["status"] == MATCH).sum()),
                    "binnen_marge": int((part["status"] == MATCH_MARGIN).sum()),
                    "verschilt": int((part["status"] == DIFFERS).sum()),
                    "verklaard": int((part["status"].isin([DIFFERS, NOT_COMPUTABLE]) & v).sum()),
                    "onverklaard": int((part["status"].isin([DIFFERS, NOT_COMPUTABLE]) & ~v).sum()),
                    "niet_berekenbaar": int((part["status"] == NOT_COMPUTABLE).sum()),
                    "per_herkomst": {k: int((part["herkomst"] == k).sum()) for k in sorted(set(part["herkomst"]))}}

        prose = self.prose
        if prose.empty or "herkomst" not in prose:
            tekst = {"claims": 0, "echt": 0, "echt_klopt": 0, "echt_verklaard": 0, "echt_onverklaard": 0,
                     "gegenereerd": 0, "gegenereerd_klopt": 0, "niet_berekenbaar": 0, "per_status": {}}
        else:
            is_real = prose["herkomst"].isin(REAL_KINDS)
            holds = prose["status"] == "klopt"
            tekst = {"claims": len(prose), "echt": int(is_real.sum()), "echt_klopt": int((is_real & holds).sum()),
                     "echt_verklaard": int((prose["bevinding"].astype(bool) & prose["verwacht"].astype(bool)).sum()),
                     "echt_onverklaard": len(self.unexplained_prose),
                     "gegenereerd": int((prose["herkomst"] == GENERATED).sum()),
                     "gegenereerd_klopt": int(((prose["herkomst"] == GENERATED) & holds).sum()),
                     "niet_berekenbaar": int((prose["status"] == "niet berekenbaar").sum()),
                     "per_status": {f"{k or 'geen invoer'}: {s}": int(n) for (k, s), n in
                                    prose.groupby(["herkomst", "status"]).size().items()}}
        errata = self.true_errata
        soorten = self.errata["soort"].value_counts().to_dict() if "soort" in self.errata else {}
        return {"matched": int(cells["status"].isin([MATCH, MATCH_MARGIN]).sum()), "published": len(cells),
                "expected": int((cells["status"].isin([DIFFERS, NOT_COMPUTABLE]) & verwacht).sum()),
                "errata": len(errata), "unexplained": len(self.unexplained) + len(self.unexplained_prose),
                "echt": split(real), "gegenereerd": split(gen), "tekst": tekst,
                "bevindingen": {str(k): int(v) for k, v in soorten.items()},
                "tabel1": {"cellen": len(self.tabel1),
                           "gelijk": int(self.tabel1["status"].str.startswith("gelijk").sum()) if len(self.tabel1) else 0,
                           "verschilt": int((self.tabel1["status"] == "verschilt").sum()) if len(self.tabel1) else 0},
                "keuzes": self.choices.to_dict("records") if not self.choices.empty else []}


def validate(config: StudyConfig) -> ValidationResult:
    published = pd.concat([published_lasten(config.published_dir), published_gebruik(config.published_dir)],
                          ignore_index=True)
    data = Processed.read(config.processed_dir)
    computed = computed_tables(config, data)
    b, c = config.periods.jeugdhulp_base, config.periods.jeugdhulp_current
    base_column, current_column = f"pct_zonder_verblijf_{b.year}hj{b.half}", f"pct_zonder_verblijf_{c.year}hj{c.half}"
    year = config.periods.iv3_rekening_year
    cells = compare(computed, published, load_expected(config.published_dir), base_column, current_column)
    findings = pd.concat([
        find_errata(published, base_column, current_column, real_values(computed, base_column)),
        find_denominator_findings(published, data.lasten, f"lasten_per_gebruiker_{year}", f"lasten_per_inwoner_{year}"),
    ], ignore_index=True)
    cells = explain_by_findings(cells, findings)
    prose, prose_findings = prose_results(config, published)
    errata = pd.concat([findings, prose_findings], ignore_index=True) if len(prose_findings) else findings
    choices = choice_effects(data.keuzes, published, choice_columns(config))
    result = ValidationResult(cells=cells, errata=errata, prose=prose, choices=choices,
                              tabel1=compare_tabel1(config, data))
    write_csv(result.tabel1, config.processed_dir / TABEL1_CHECK_FILE)
    write_csv(cells, config.processed_dir / "validation.csv")
    write_csv(errata, config.processed_dir / "errata.csv")
    write_csv(prose, config.processed_dir / PROSE_FILE)
    write_csv(choices, config.processed_dir / CHOICES_FILE)
    summary = {**result.counts(), "summary": result.summary(), "error": result.error()}
    write_text(config.processed_dir / SUMMARY_FILE, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return result


def validate_command(config: StudyConfig) -> int:
    result = validate(config)
    print(f"validation: {result.summary()} (data/processed/validation.csv)")
    if result.error():
        raise ValidationError(result.error())
    return 0
