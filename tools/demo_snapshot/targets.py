"""Every calibration target of the generated values, in one place.

Targets come from chapter 6's printed tables (data/external/published/, parsed with pipeline.data.published).
To add a target (e.g. from the chapter's prose), add it to the dicts returned here; the table generators
only read ``targets()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.data.published import published_gebruik, published_lasten, targets_by_code

from .constants import PUBLISHED


@dataclass
class Targets:
    pct_zonder_2020hj1: dict[str, float]      # JH 121 relative, 2020HJ01: GM, NL01, JZ codes
    pct_zonder_2017hj1: dict[str, float]      # JH 121 relative, 2017HJ01: real/derived, a target only where
                                              # 83432NED suppresses a part (Altena, West Betuwe: predecessors)
    ses_deciel: dict[str, int]                # GM code -> printed SES decile (excl. studenten, 2019)
    armoede_deciel: dict[str, int]            # GM code -> printed armoede decile (2019)
    lasten_per_gebruiker_2019: dict[str, float]   # GM and NL01, euro
    lasten_per_inwoner_2019: dict[str, float]     # GM and size:<label>; NL01 is a check, not a target
    index_lasten_per_inwoner: dict[str, float]    # GM, NL01, size:<label>
    prose: "ProseTargets" = field(default_factory=lambda: ProseTargets())
    # real national totals on 1 January (CBS StatLine, public): the generated 2017/2018 municipalities sum to these
    nl_population: dict[int, int] = field(default_factory=lambda: {2017: 17_081_507, 2018: 17_181_084})


# Chapter 6's prose claims on values that are generated in the demo snapshot
# (data/external/published/hoofdstuk6_tekst.csv, checked by pipeline.check.prose); the claim id is named per target.
# Claims on real CBS values (SES deciles, JZ Totaal users, 2015-2017 forms) are not targets: they hold or not.
DEVENTER_REFS = ("GM0200", "GM0202", "GM0301", "GM0193")
UTRECHT_REFS = ("GM0307", "GM0402", "GM0513", "GM0363", "GM0518", "GM0599")


@dataclass
class ProseTargets:
    # JH 121 % zonder verblijf 2019 H2 from the (printed) 2020 H1: relative COVID dip in % ...
    zonder_dip_relatief: dict[str, float] = field(default_factory=lambda: {
        "GM0150": -4.0,                                       # deventer-covid-daling (ca 4%)
        **{c: -10.0 for c in DEVENTER_REFS}})                 # deventer-covid-daling-elders (10% elders)
    # ... or in %-points, exact on one decimal
    zonder_dip_procentpunt: dict[str, float] = field(default_factory=lambda: {
        "GM0344": -0.2,                                       # utrecht-covid-daling
        "NL01": -0.6})                                        # utrecht-covid-daling-nl (NL01: calibrated via free members)
    zonder_dip_minimaal: dict[str, float] = field(default_factory=lambda: {
        c: -0.5 for c in UTRECHT_REFS})                       # utrecht-covid-daling-referenties (<= -0.4)
    zonder_deciel10_2019hj2: tuple = ("GM0344", "GM0297")     # utrecht-zaltbommel-hoog-zonder-verblijf, zaltbommel-deciel-2019h2
    # JH 122 % met verblijf at (code, period); NL01 through the municipalities without a target
    met_pct: dict[tuple[str, str], float] = field(default_factory=lambda: {
        **{(c, "2020HJ01"): 0.5 for c in DEVENTER_REFS},      # deventer-referenties-met-verblijf (0.3-0.6)
        ("GM0344", "2019HJ02"): 0.5,                          # utrecht-met-verblijf
        ("GM0363", "2019HJ02"): 0.8, ("GM0518", "2019HJ02"): 0.7, ("GM0599", "2019HJ02"): 0.8,  # utrecht-g4-met-verblijf
        ("GM0297", "2019HJ02"): 0.4,                          # zaltbommel-laag-met-verblijf (decile 1)
        **{(c, "2019HJ02"): 0.6 for c in ("GM1959", "GM0214", "GM0263", "GM1960")},  # zaltbommel-referenties-...: 4 of 5
        ("GM0797", "2019HJ02"): 1.0,                          # ... and Heusden not
        ("NL01", "2019HJ02"): 0.8, ("NL01", "2020HJ01"): 0.7})  # deventer-met-verblijf-boven-nl, zaltbommel-referenties
    met_deciel1_2019hj2: tuple = ("GM0344", "GM0297")         # utrecht-zaltbommel-laag-met-verblijf
    # count ratio between two half years (deventer-met-verblijf-aantal: licht neerwaarts, -1% .. -15%;
    # utrecht-met-verblijf-aantal: ongeveer -10%, from the generated 2017 H1 above the ZIN-only lower bound)
    met_count_ratio: dict[str, tuple] = field(default_factory=lambda: {"GM0150": ("2017HJ01", "2020HJ01", 0.92),
                                                                       "GM0344": ("2017HJ01", "2019HJ02", 0.90)})
    # a constant count from a half year on, at a % in a later one (peelenmaas-met-verblijf 0,4%, -stabiel)
    met_constant: dict[str, tuple] = field(default_factory=lambda: {"GM1894": ("2018HJ01", "2020HJ01", 0.4)})
    # a jeugdregio whose members' met-verblijf counts fall to this fraction of 2018 (roosendaal-met-verblijf-halvering)
    met_halving: dict[str, dict] = field(default_factory=lambda: {
        "JZ36": {"2019HJ01": 0.75, "2019JJ00": 0.7, "2019HJ02": 0.5, "2020HJ01": 0.5, "2020HJ02": 0.5,
                 "2020JJ00": 0.5}})
    # JH 1211 via wijkteam as % of JH 121, 2020 H1 (utrecht-wijkteam-top3, utrecht-wijkteam-g4)
    wijkteam_pct_2020hj1: dict[str, float] = field(default_factory=lambda: {
        "GM0344": 82.0, "GM0484": 80.0, "GM0479": 78.0, "GM0363": 38.0, "GM0518": 34.0, "GM0599": 36.0})
    wijkteam_cap_100k: float = 72.0                           # every other municipality of 100 000+ stays below
    # armoede decile at least this for the jeugdregio's members other than the named (roosendaal-overige-armoede)
    armoede_min_deciel: tuple = ("JZ36", ("GM1674", "GM0748"), 3)
    # lasten per gebruiker 2019 / 2017 x 100 (rekening 2017 generated): zaltbommel-kosten-per-gebruiker-25, -vs-nl
    index_lasten_per_gebruiker: dict[str, float] = field(default_factory=lambda: {"GM0297": 125.0, "NL01": 115.0})


# Nederland's index lasten per inwoner 151 (Tabel 2, 4, 6, 8, 10) cannot be reached with total/total, the rule
# that gives the printed Nederland lasten per inwoner (EUR 293 = 443 585 x 11 409 / 17 282 163). Proof: the NL
# index is 293 / B with B = sum_g share_g x b_g, the inhabitant-weighted begroting 2017 per inwoner of disjoint
# groups g (shares: real 03759ned). The printed size classes fix b_g = lasten per inwoner 2019 / index for
# 20-300K (80.3 % of inhabitants) and Tabel 4's G4 (13.9 %) fix theirs: together sum share_g x b_g = EUR 199.3.
# 151 needs B = 293 / 1.51 = EUR 194.0 < 199.3, so the municipalities under 20 000 (6.3 %) would need a
# negative begroting (-EUR 83 per inwoner). With any b >= 0 there the index is at most 147; the generator lets
# them move at most -25 % / +35 % (iv3.py) and gets 142. Not a target that can hold: listed as a miss.
@lru_cache(maxsize=None)
def targets() -> Targets:
    gebruik = published_gebruik(PUBLISHED)
    lasten = published_lasten(PUBLISHED)
    ses = {**targets_by_code(lasten, "ses_deciel"), **targets_by_code(gebruik, "ses_deciel")}
    arm = {**targets_by_code(lasten, "armoede_deciel"), **targets_by_code(gebruik, "armoede_deciel")}
    per_inwoner = targets_by_code(lasten, "lasten_per_inwoner_2019")
    return Targets(
        pct_zonder_2020hj1=targets_by_code(gebruik, "pct_zonder_verblijf_2020hj1"),
        pct_zonder_2017hj1=targets_by_code(gebruik, "pct_zonder_verblijf_2017hj1"),
        ses_deciel={c: int(v) for c, v in ses.items() if c.startswith("GM")},
        armoede_deciel={c: int(v) for c, v in arm.items() if c.startswith("GM")},
        lasten_per_gebruiker_2019=targets_by_code(lasten, "lasten_per_gebruiker_2019"),
        lasten_per_inwoner_2019={c: v for c, v in per_inwoner.items() if c != "NL01"},
        index_lasten_per_inwoner=targets_by_code(lasten, "index_lasten_per_inwoner"),
    )
