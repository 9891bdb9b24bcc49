"""The indicators of annex 3 ("Bijlage 3: Toelichting gehanteerde kengetallen"), one function each.

Every function takes plain pandas objects indexed by municipality (or unit) code and returns a
Series, so each can be checked against a hand-computed example. The annex-3 text is quoted in the
docstring; where the report leaves a choice open, the docstring says which choice is made and why.

Precision rule: CBS publishes percentages with one decimal and Iv3 amounts per inhabitant in whole
euros; the report's indices are consistent with ratios of those published values (every index in
Tabel 3-11 except one erratum), so indices are computed from inputs at published precision.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def round_half_up(values, decimals: int = 0):
    """Round halves away from zero, as the report and StatLine do (Python's round() rounds to even)."""
    factor = 10.0 ** decimals

    def one(x):
        if x is None or x is pd.NA or not math.isfinite(x):
            return np.nan
        # the small epsilon absorbs binary representation error (2.675 is stored as 2.67499...)
        return math.copysign(math.floor(abs(x) * factor + 0.5 + 1e-9), x) / factor

    if isinstance(values, pd.Series):
        # the same arithmetic as one(), on the whole column at once
        x = values.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            rounded = np.copysign(np.floor(np.abs(x) * factor + 0.5 + 1e-9), x) / factor
        rounded[~np.isfinite(x)] = np.nan
        return pd.Series(rounded, index=values.index, name=values.name)
    return one(values)


def decile(values: pd.Series, highest_first: bool = False) -> pd.Series:
    """Decile 1-10 of each value among all values given.

    Rank r (1 = lowest value, or highest when ``highest_first``) maps to decile
    ``1 + floor(10 * (r - 1) / n)``. Tied values share the lowest rank of their group, so equal
    values always fall in the same decile. Missing values get no decile.
    """
    present = values.dropna()
    n = len(present)
    ranks = present.rank(method="min", ascending=not highest_first)
    result = (1 + np.floor(10 * (ranks - 1) / n)).astype("Int64")
    return result.reindex(values.index)


def ses_deciel(mediaan_gestandaardiseerd_inkomen: pd.Series) -> pd.Series:
    """SES-deciel (annex 3, note 1).

    "Op basis van het gestandaardiseerd mediaan inkomen per huishouden 2019 naar gemeenten 2020.
    Laagste mediaan inkomen is eerste deciel." Source: CBS 84866NED.
    Input: median standardised household income per municipality of the 2020 classification.
    """
    return decile(mediaan_gestandaardiseerd_inkomen, highest_first=False)


def armoede_deciel(pct_kinderen_laag_inkomen: pd.Series) -> pd.Series:
    """Kinderen in armoede deciel (annex 3, note 2).

    "Op basis van het percentage kinderen die tenminste 1 jaar in huishoudens met inkomens tot de
    lage inkomensgrens wonen. Hoogste percentage kinderen is eerste deciel, ofwel de meest kwetsbare
    score." Source: CBS 84868NED, 2019, gemeenten 2020.
    """
    return decile(pct_kinderen_laag_inkomen, highest_first=True)


def lasten_per_gebruiker(lasten: pd.Series, jongeren_met_jeugdzorg: pd.Series) -> pd.Series:
    """Lasten per gebruiker (annex 3, note 3), in euro.

    "De lasten verantwoord in de jaarrekening 2019 op de taakvelden <6.72 Maatwerk 18-> en <6.82
    Geëscaleerde zorg 18-> en vervolgens afgezet tegen het totaal aantal jongeren met jeugdzorg
    (CBS-code <JZ Totaal Jeugdzorg>) op jaarbasis."
    Input: Iv3 lasten of both taakvelden together in euro (the table's unit already applied), and the
    number of youth with any jeugdzorg (84134NED, category JZ Totaal jeugdzorg) in the same year.
    """
    return lasten / jongeren_met_jeugdzorg


def lasten_per_inwoner(lasten, inwoners):
    """Lasten per inwoner (annex 3, note 4), in euro: Iv3 lasten of the taakvelden over inhabitants.

    "Naar analogie van <lasten per gebruiker> zijn de gegevens uit de jaarrekening 2019 van de
    gemeenten opgenomen. De gegevens zijn direct beschikbaar vanuit www.findo.nl en onbewerkt
    overgenomen." Lasten per inwoner is not a CBS measure: Findo divides the Iv3 lasten by the
    inhabitants, which is what this does, with CBS's population on 1 January of the same year (03759ned).
    """
    return lasten / inwoners


def lasten_per_inwoner_gewogen(lasten: pd.Series, inwoners: pd.Series) -> float:
    """Lasten per inwoner of a group (Nederland, a size class): total lasten over total inhabitants.

    Annex 3 does not say how the rows "Nederland" and "100-150K" were averaged. For Nederland the
    printed values decide it: 443 585 users x EUR 11 409 (lasten per gebruiker) over 17 282 163
    inhabitants is EUR 293, the printed lasten per inwoner, which is the weighted figure. Members
    without a value are left out of both sums. ``choices.lasten_per_inwoner_groep: gewogen``.
    """
    lasten, inwoners = np.asarray(lasten, dtype=float), np.asarray(inwoners, dtype=float)
    present = ~np.isnan(lasten) & ~np.isnan(inwoners)
    if not present.any():
        return math.nan
    return float(lasten[present].sum() / inwoners[present].sum())


def lasten_per_inwoner_ongewogen(per_inwoner: pd.Series) -> float:
    """Lasten per inwoner of a group as the unweighted mean over its municipalities (as benchmark sites show).

    The alternative to :func:`lasten_per_inwoner_gewogen`: ``choices.lasten_per_inwoner_groep: ongewogen``.
    """
    values = np.asarray(per_inwoner, dtype=float)
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else math.nan


def index_lasten_per_inwoner(rekening: pd.Series, begroting_ijkjaar: pd.Series) -> pd.Series:
    """Index lasten per inwoner (annex 3, note 5): rekening 2019 against begroting 2017 = 100.

    "IJkpunt zijn de lasten per inwoner in de begroting 2017." Both inputs are rounded to whole
    euros first, the precision at which they are published.
    """
    return round_half_up(rekening, 0) / round_half_up(begroting_ijkjaar, 0) * 100.0


def implied_base(jongeren_met_jeugdzorg, relatief):
    """The youth population a CBS relative figure is based on: count / percentage x 100.

    84134NED publishes "JongerenMetJeugdzorgRelatief_2" as a percentage of all youth of 0 to 23 years
    but not that base itself; the count of JZ Totaal jeugdzorg over its percentage gives it (to the
    precision of CBS's rounding: counts to 5, percentages to one decimal). A percentage of 0.0 gives no
    base (NaN), not an infinite one: rounded to one decimal, it only says the share is under 0.05%.
    """
    count, pct = np.asarray(jongeren_met_jeugdzorg, dtype=float), np.asarray(relatief, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pct > 0, count / pct * 100.0, np.nan)


def pct_groep_gepoold(aantallen: pd.Series, basis: pd.Series) -> float:
    """% jeugdigen with a form of jeugdhulp of a group without a CBS row (a size class): the pooled share.

    All youth with that form over all youth of the group (implied bases, :func:`implied_base`), one
    decimal as CBS publishes; members without a value are left out of numerator and denominator.
    ``choices.pct_zonder_verblijf_groep: gepoold`` (the alternative is :func:`pct_groep_ongewogen`).
    Annex 3 note 6: "Gebaseerd op CBS Kerncijfers code <JH121> op halfjaarbasis".
    """
    aantallen, basis = np.asarray(aantallen, dtype=float), np.asarray(basis, dtype=float)
    present = ~np.isnan(aantallen) & ~np.isnan(basis) & (basis > 0)
    if not present.any():
        return math.nan
    return round_half_up(float(aantallen[present].sum() / basis[present].sum() * 100.0), 1)


def pct_groep_ongewogen(percentages: pd.Series) -> float:
    """% of a group as the unweighted mean of its members' one-decimal percentages (``ongewogen``)."""
    values = np.asarray(percentages, dtype=float)
    present = values[~np.isnan(values)]
    return round_half_up(float(present.mean()), 1) if len(present) else math.nan


def pct_via_wijkteam(via_wijkteam, zonder_verblijf):
    """Share of jeugdhulp zonder verblijf carried out by the wijkteam (JH 1211 over JH 121), %, one decimal.

    Chapter 6 (Utrecht): "Onderliggende data van CBS laten ook zien dat bij een vergelijking van
    jeugdhulp via wijkteams onder alle 100.000+ gemeenten Utrecht [...] de hoogste percentages
    jeugdhulp via wijkteams aanbiedt."
    """
    with np.errstate(divide="ignore", invalid="ignore"):   # no zonder verblijf: no share (NaN), not an error
        share = via_wijkteam / (zonder_verblijf if isinstance(zonder_verblijf, pd.Series) else np.float64(zonder_verblijf))
    return round_half_up(share * 100.0, 1)


def index_pct_zonder_verblijf(pct: pd.Series, pct_base: pd.Series) -> pd.Series:
    """Index % jeugdigen met jeugdhulp zonder verblijf, first half of 2017 = 100 (annex 3, note 6).

    "Index is gebaseerd op de percentages jongeren die een beroep doen op jeugdhulp, niet op
    absolute aantallen." Computed from the one-decimal percentages.
    """
    return round_half_up(pct, 1) / round_half_up(pct_base, 1) * 100.0


def backcast_weighted_pct(pct: pd.Series, weights: pd.Series) -> float:
    """Percentage of a municipality formed by merger, for periods before it existed (annex 3, note 6).

    "Voor de gemeenten Altena en West Betuwe is het percentage jongeren met jeugdhulp voor de jaren
    2015-2018 herleid op basis van de percentages van de fusie gemeenten en het relatieve gewicht van
    het aantal jongeren [...] in die gemeenten." The predecessors' percentages are averaged with
    their numbers of youth with jeugdzorg as weights, as the annex says, rounded to one decimal.
    """
    pct, weights = np.asarray(pct, dtype=float), np.asarray(weights, dtype=float)
    return round_half_up(float((pct * weights).sum() / weights.sum()), 1)


# ---------------------------------------------------------------------------------------------
# Indicators chapter 6's text relies on but its tables omit (computed for every case)


def verandering_procentpunt(pct_later: pd.Series, pct_eerder: pd.Series) -> pd.Series:
    """Change in percentage points between two half years, from one-decimal percentages.

    Chapter 6 (Utrecht): "die daling in Utrecht [is] maar 0,2%-punt ten opzichte van het tweede
    halfjaar 2019, terwijl [...] landelijk 0,6%-punt". Used for the COVID-19 dip 2019 H2 -> 2020 H1.
    """
    return round_half_up(pct_later, 1) - round_half_up(pct_eerder, 1)


def deciel_zonder_verblijf(pct_zonder_verblijf: pd.Series) -> pd.Series:
    """Decile of a municipality's % jeugdhulp zonder verblijf among all municipalities; 10 = highest share.

    Chapter 6 (Zaltbommel): "de gemeente [behoort] in het tweede halfjaar van 2019 (2019H2) tot het
    deciel gemeenten met het hoogste percentage jongeren dat een beroep op jeugdhulp zonder verblijf
    doet" (footnote 2: this half year is chosen to filter out effects of corona).
    """
    return decile(pct_zonder_verblijf, highest_first=False)


def index_aantal(aantal: pd.Series, aantal_basis: pd.Series) -> pd.Series:
    """Index of a count against a base period (= 100), e.g. youth with jeugdhulp met verblijf.

    Chapter 6 (Utrecht): "Alhoewel dat percentage [...] stabiel blijft is er in absolute aantallen
    sprake van een daling van ongeveer 10%" — the text reads trends in counts next to percentages.
    """
    return aantal / aantal_basis * 100.0


def index_lasten_per_gebruiker(lasten_per_gebruiker_later: pd.Series, lasten_per_gebruiker_basis: pd.Series) -> pd.Series:
    """Development of lasten per gebruiker (basis year = 100), from whole euros.

    Chapter 6 (Zaltbommel): "de kostenontwikkeling per gebruiker tussen 2017 en 2019 [is] voor
    Zaltbommel ongeveer 25%, [...] circa 10% boven de landelijke kostenontwikkeling". Lasten per
    gebruiker as in annex 3 note 3, for each year's jaarrekening and that year's users.
    """
    return round_half_up(lasten_per_gebruiker_later, 0) / round_half_up(lasten_per_gebruiker_basis, 0) * 100.0


# The indicator functions the build calls, in the order of annex 3 (the methods section of every report
# lists exactly these; tests/test_indicators.py checks the list against pipeline/build/processed_data.py)
USED_BY_BUILD = (ses_deciel, armoede_deciel, lasten_per_gebruiker, lasten_per_inwoner, lasten_per_inwoner_gewogen,
                 lasten_per_inwoner_ongewogen, index_lasten_per_inwoner, implied_base, pct_groep_gepoold,
                 pct_groep_ongewogen, pct_via_wijkteam, index_pct_zonder_verblijf, backcast_weighted_pct,
                 verandering_procentpunt, deciel_zonder_verblijf, index_aantal, index_lasten_per_gebruiker)
