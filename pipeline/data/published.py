"""The published values of chapter 6, as transcribed in ``data/external/published/``.

The CSVs keep every cell exactly as printed ("€ 10.143", "8,1%", "x", "-", "€ 10.250#"); this
module parses them into numbers (Dutch thousands separator and decimal comma) and missing values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.config import ROOT

PUBLISHED_DIR = ROOT / "data" / "external" / "published"
LASTEN_FILE = "hoofdstuk6_lasten.csv"
GEBRUIK_FILE = "hoofdstuk6_gebruik.csv"
TABEL1_FILE = "tabel1_referentiegroepen.csv"
MISSING = {"", "x", "X", "-"}
VALUE_COLUMNS = {
    LASTEN_FILE: ["ses_deciel", "armoede_deciel", "lasten_per_gebruiker_2019", "lasten_per_inwoner_2019",
                  "index_lasten_per_inwoner"],
    GEBRUIK_FILE: ["ses_deciel", "armoede_deciel", "pct_zonder_verblijf_2017hj1", "pct_zonder_verblijf_2020hj1",
                   "index_pct_zonder_verblijf"],
}


def parse_printed(cell) -> float | None:
    """A printed cell as a number: '€ 10.143' -> 10143, '8,1%' -> 8.1, 'x' / '-' -> None.

    A trailing '#' (footnote marker) is dropped; the footnote itself is kept in the raw CSV.
    """
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return None
    text = str(cell).strip().rstrip("#").strip()
    if text in MISSING:
        return None
    text = text.replace("€", "").replace("%", "").strip()
    if not re.fullmatch(r"-?[\d.]+(,\d+)?", text):
        raise ValueError(f"unreadable published value {cell!r}")
    return float(text.replace(".", "").replace(",", "."))


def load_published(name: str, directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    """One published table file with its value columns parsed (the printed text kept as ``*_gedrukt``)."""
    raw = pd.read_csv(directory / name, dtype=str, keep_default_na=False)
    for column in VALUE_COLUMNS[name]:
        raw[f"{column}_gedrukt"] = raw[column]
        raw[column] = raw[column].map(parse_printed).astype(float)
    raw["tabel"] = raw["tabel"].astype(int)
    return raw


def published_lasten(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    return load_published(LASTEN_FILE, directory)


def published_gebruik(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    return load_published(GEBRUIK_FILE, directory)


def published_tabel1(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    return pd.read_csv(directory / TABEL1_FILE, dtype=str)


def targets_by_code(frame: pd.DataFrame, column: str) -> dict[str, float]:
    """Published value per row code (GM code, NL01, JZnn, size:<label>), skipping missing cells.

    A code printed in several tables with different values would be a transcription error.
    """
    values: dict[str, float] = {}
    for code, value in zip(frame["rij_code"], frame[column]):
        if pd.isna(value):
            continue
        if code in values and values[code] != value:
            raise ValueError(f"{code} has two published values for {column}: {values[code]} and {value}")
        values[code] = float(value)
    return values
