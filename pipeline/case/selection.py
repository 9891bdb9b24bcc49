"""Which municipalities are cases, and with which reference group.

Any municipality of the snapshot's classification can be a case. The five cases of Tabel 1 keep
their configured reference groups; any other gets an automatic one following chapter 6.2's method
("gemeenten [...] met min of meer vergelijkbare schaalgrootte", neighbours first):

1. candidates are the municipalities of the same CBS size class (gemeentegrootteklasse, from the
   population on 1 January of the classification year);
2. ranked by: same jeugdregio first, then same province, then nearest in population (ratio, so
   20 000 vs 25 000 is as near as 200 000 vs 250 000), ties by code;
3. the first five; when the class has fewer than four other members, the nearest in population
   from the neighbouring classes fill up to four.
"""

from __future__ import annotations

import difflib
import math
from typing import TYPE_CHECKING

from pipeline.config import Case, StudyConfig, cbs_size_class
from pipeline.errors import UnknownMunicipalityError

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_GROUP_SIZE = 5
MINIMUM_GROUP_SIZE = 4
RULE_TEXT = ("Automatische referentiegroep (methode van paragraaf 6.2): gemeenten uit dezelfde CBS-grootteklasse, "
             "bij voorkeur uit dezelfde jeugdregio, dan dezelfde provincie, dan het dichtst bij in inwonertal; "
             f"de eerste {REFERENCE_GROUP_SIZE}. Heeft de klasse minder dan {MINIMUM_GROUP_SIZE} andere gemeenten, "
             "dan vullen de gemeenten met het dichtstbijzijnde inwonertal uit de aangrenzende klassen aan.")


def resolve_municipality(query: str, gemeenten: pd.DataFrame) -> str:
    """A CBS code from a code or a name (case-insensitive); unknown → error with close matches."""
    text = str(query).strip()
    codes = set(gemeenten["code"])
    if text.upper() in codes:
        return text.upper()
    if text.isdigit() and f"GM{int(text):04d}" in codes:
        return f"GM{int(text):04d}"   # papermill or YAML turned "0150" into 150
    by_name = {n.lower(): c for c, n in zip(gemeenten["code"], gemeenten["naam"])}
    if text.lower() in by_name:
        return by_name[text.lower()]
    names = dict(zip(gemeenten["code"], gemeenten["naam"]))
    close = difflib.get_close_matches(text.lower(), list(by_name), n=3, cutoff=0.6)
    if not close and text.upper().startswith("GM"):
        close = [names[c].lower() for c in difflib.get_close_matches(text.upper(), sorted(codes), n=3, cutoff=0.8)]
    hint = "; did you mean " + " or ".join(f"{by_name[c]} {names[by_name[c]]}" for c in close) + "?" if close else ""
    raise UnknownMunicipalityError(f"{query!r} is not a municipality of the snapshot's classification{hint} "
                                   "(see data/processed/gemeenten.csv)")


def automatic_references(code: str, gemeenten: pd.DataFrame) -> list[str]:
    """The automatic reference group of ``code`` (see the module docstring for the rule)."""
    frame = gemeenten.set_index("code")
    me = frame.loc[code]
    others = frame.drop(index=code).copy()
    others["klasse"] = others["inwoners"].map(cbs_size_class)
    others["zelfde_regio"] = others["jeugdregio_code"] == me["jeugdregio_code"]
    others["zelfde_provincie"] = others["provincie"] == me["provincie"]
    others["afstand"] = (others["inwoners"].astype(float) / float(me["inwoners"])).map(lambda r: abs(math.log(r)))
    others["code_"] = others.index
    same_class = others[others["klasse"] == cbs_size_class(me["inwoners"])]
    ranked = same_class.sort_values(["zelfde_regio", "zelfde_provincie", "afstand", "code_"],
                                    ascending=[False, False, True, True])
    chosen = ranked.index[:REFERENCE_GROUP_SIZE].tolist()
    if len(chosen) < MINIMUM_GROUP_SIZE:
        rest = others.drop(index=chosen).sort_values(["afstand", "code_"])
        chosen += rest.index[: MINIMUM_GROUP_SIZE - len(chosen)].tolist()
    return chosen


def case_for(code: str, config: StudyConfig, gemeenten: pd.DataFrame) -> Case:
    """The configured case, or an automatic one: CBS size class, own jeugdregio, automatic references."""
    configured = config.case(code)
    if configured is not None:
        return configured
    row = gemeenten.set_index("code").loc[code]
    region = row["jeugdregio_code"] if isinstance(row["jeugdregio_code"], str) else None
    return Case(code=code, size_class=cbs_size_class(row["inwoners"]), jeugdregio=region,
                references=tuple(automatic_references(code, gemeenten)), automatic=True)


def select_case_codes(config: StudyConfig, wanted: list[str] | None, all_municipalities: bool = False,
                      gemeenten: pd.DataFrame | None = None) -> list[str]:
    """The case codes to run: the configured cases, or ``wanted`` (codes or names), or every municipality."""
    if not wanted and not all_municipalities:
        return [c.code for c in config.cases]
    if gemeenten is None:   # the names are in the processed data: no need to read the raw snapshot
        gemeenten = processed_gemeenten(config)
    if all_municipalities:
        return sorted(gemeenten["code"])
    chosen: list[str] = []
    for item in wanted:
        code = resolve_municipality(item, gemeenten)
        if code not in chosen:
            chosen.append(code)
    return chosen


def processed_gemeenten(config: StudyConfig) -> pd.DataFrame:
    """The municipalities of the classification as the build wrote them (code, name, region, size)."""
    path = config.processed_dir / "gemeenten.csv"
    if not path.exists():
        raise UnknownMunicipalityError(f"no municipalities yet ({path} is missing); run `python -m pipeline build`")
    import pandas as pd  # here, not at the top: a no-op run selects its cases without pandas

    return pd.read_csv(path, dtype={"code": str, "jeugdregio_code": str})


def select_cases(config: StudyConfig, wanted: list[str] | None, all_municipalities: bool = False) -> list[str]:
    """The configured case codes, or ``wanted`` (codes or names), or every municipality."""
    codes = [c.code for c in config.cases]
    if not wanted and not all_municipalities:
        return codes
    if not all_municipalities and all(str(w).strip() in codes for w in wanted):
        return list(dict.fromkeys(str(w).strip() for w in wanted))  # plain codes: no need to read the snapshot
    return select_case_codes(config, wanted, all_municipalities)
