"""The validation page (``reports/validation.html``): a notebook like the case reports, rendered the same way.

The notebook ``notebooks/validatie.ipynb`` calls the functions here; each returns HTML, the macro of
``templates/validation.html`` filled with the result. The page
shows the summary split by provenance (real data apart from generated, calibrated data), the
tolerance and its margin, the findings (errata from the data and the printed values), the effect of
every configured choice, the prose claims, and every cell side by side.
"""

from __future__ import annotations

import pandas as pd

from pipeline.config import StudyConfig, load_config
from pipeline.check.validate import (CHOICES_FILE, DERIVATION_MARGIN, DIFFERS, ERRATUM_KINDS, MATCH, MATCH_MARGIN, NOT_COMPUTABLE,
                       NOT_PUBLISHED, PROSE_FILE, REAL_KINDS, ValidationResult)
from pipeline.check.summary import provenance_split, read_summary
from pipeline.case.formatting import decimal
from pipeline.report.templates import template_module

STATUS_NL = {MATCH: "gelijk", MATCH_MARGIN: "gelijk binnen afleidingsmarge", DIFFERS: "verschilt",
             NOT_PUBLISHED: "niet gepubliceerd", NOT_COMPUTABLE: "niet berekenbaar"}
CALIBRATED = "gekalibreerd: zegt niets over het rapport"


def _read(path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, **kwargs) if path.exists() else pd.DataFrame()


def load_result(config_path: str | None = None) -> ValidationResult:
    config = load_config(config_path) if config_path else load_config()
    directory = config.processed_dir
    cells = pd.read_csv(directory / "validation.csv", dtype={"rij_code": str, "gepubliceerd_gedrukt": str,
                                                              "herkomst": str, "reden": str})
    cells["herkomst"] = cells["herkomst"].fillna("")
    cells["reden"] = cells["reden"].fillna("")
    for column in ("verklaring", "toets_echte_basis"):
        cells[column] = cells[column].fillna("") if column in cells else ""
    errata = pd.read_csv(directory / "errata.csv", dtype=str).fillna("")
    prose = _read(directory / PROSE_FILE, dtype={"herkomst": str}, keep_default_na=False)
    for column in ("verwacht", "bevinding"):
        if column in prose:
            prose[column] = prose[column].astype(str) == "True"
    choices = _read(directory / CHOICES_FILE, keep_default_na=False)
    if "gekozen" in choices:
        choices["gekozen"] = choices["gekozen"].astype(str) == "True"
    return ValidationResult(cells=cells, errata=errata, prose=prose, choices=choices)


def summary_html(result: ValidationResult) -> str:
    n = result.counts()
    errata = f"{n['errata']} {'erratum' if n['errata'] == 1 else 'errata'}"
    return str(_macros().summary(n, n["echt"], n["gegenereerd"], n["tekst"], errata, CALIBRATED))


def tolerance_html(result: ValidationResult | None = None) -> str:
    return str(_macros().tolerance(decimal(DERIVATION_MARGIN, 1)))


def errata_html(result: ValidationResult) -> str:
    errata = result.errata
    if errata.empty:
        return str(_macros().no_errata())
    if "soort" not in errata:
        errata = errata.assign(soort="", bewijs="", echte_waarde="")
    true = errata[errata["soort"].isin(ERRATUM_KINDS)]
    other = errata[~errata["soort"].isin(ERRATUM_KINDS)]
    return str(_macros().errata(list(true.itertuples()), list(other.itertuples())))


def choices_html(result: ValidationResult) -> str:
    choices = result.choices
    if choices is None or choices.empty:
        return str(_macros().no_choices())
    rows = [{"keuze": r.keuze, "optie": r.optie, "gekozen": r.gekozen, "herkomst": getattr(r, "herkomst", ""),
             "cellen": r.cellen, "gelijk": r.gelijk, "omgeslagen": r.omgeslagen, "touches": bool(int(r.cellen))}
            for r in choices.itertuples()]
    return str(_macros().choices(rows, CALIBRATED))


def prose_html(result: ValidationResult) -> str:
    prose = result.prose
    if prose is None or prose.empty:
        return str(_macros().no_prose())
    real = prose["herkomst"].isin(REAL_KINDS)
    rows = [*prose[real].itertuples(), *prose[~real].itertuples()]  # real data first
    return str(_macros().prose(rows, result.counts()["tekst"], REAL_KINDS, CALIBRATED))


def cells_html(result: ValidationResult) -> str:
    rows = []
    for r in result.cells.itertuples():
        rows.append({"status_class": r.status.replace(" ", "-").replace("(", "").replace(")", ""),
                     "kind": getattr(r, "herkomst", "") or "", "tabel": r.tabel, "rij_label": str(r.rij_label),
                     "kolom": r.kolom, "gepubliceerd": str(r.gepubliceerd_gedrukt), "berekend": r.berekend,
                     "verschil": r.verschil, "status": STATUS_NL.get(r.status, r.status),
                     "verklaring": str(getattr(r, "verklaring", "") or ""),
                     "reden": str(r.reden) if isinstance(r.reden, str) else "",
                     "check": str(getattr(r, "toets_echte_basis", "") or "")})
    return str(_macros().cells(rows))


def _macros():
    """The fragments of the page (``templates/validation.html``)."""
    return template_module("validation.html")


def index_summary(config: StudyConfig) -> str | None:
    """One line for the index page: cells by provenance and the real-data reproduction counts (None when
    validation has not run)."""
    counts = read_summary(config)
    if counts is None:
        return None
    errata = f"{counts['errata']} {'erratum' if counts['errata'] == 1 else 'errata'}"
    split = provenance_split(counts)
    if split is None:      # a summary written before the provenance split
        return (f"{counts['matched']} van {counts['published']} gepubliceerde cellen gelijk, {errata}, "
                f"{counts['unexplained']} onverklaarde verschillen")
    r, g = split
    margin = f" ({r['binnen_marge']} binnen afleidingsmarge)" if r["binnen_marge"] else ""
    return (f"echte data: {r['gelijk'] + r['binnen_marge']} van {r['gepubliceerd']} cellen gelijk{margin}, "
            f"{r['verklaard']} verklaard, {r['onverklaard']} onverklaard; gegenereerd (gekalibreerd, zegt niets over "
            f"het rapport): {g['gelijk'] + g['binnen_marge']} van {g['gepubliceerd']}; {errata}; "
            f"{counts['unexplained']} onverklaard in totaal")
