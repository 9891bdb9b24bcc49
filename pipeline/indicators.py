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
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return np.nan
        # the small epsilon absorbs binary representation error (2.675 is stored as 2.67499...)
        return math.copysign(math.floor(abs(x) * factor + 0.5 + 1e-9), x) / factor

    if isinstance(values, pd.Series):
        return values.map(one).astype(float)
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


def lasten_per_gebruiker(lasten_x1000: pd.Series, jongeren_met_jeugdzorg: pd.Series) -> pd.Series:
    """Lasten per gebruiker (annex 3, note 3), in euro.

    "De lasten verantwoord in de jaarrekening 2019 op de taakvelden <6.72 Maatwerk 18-> en <6.82
    Geëscaleerde zorg 18-> en vervolgens afgezet tegen het totaal aantal jongeren met jeugdzorg
    (CBS-code <JZ Totaal Jeugdzorg>) op jaarbasis."
    Input: lasten of both taakvelden together in thousands of euros (Iv3 unit), and the number of
    youth with any jeugdzorg in the same year.
    """
    return lasten_x1000 * 1000.0 / jongeren_met_jeugdzorg


def lasten_per_inwoner(lasten_per_inwoner_per_taakveld: pd.DataFrame) -> pd.Series:
    """Lasten per inwoner (annex 3, note 4), in euro: the Iv3 amounts per inhabitant of the taakvelden, summed.

    "Naar analogie van <lasten per gebruiker> zijn de gegevens uit de jaarrekening 2019 van de
    gemeenten opgenomen. De gegevens zijn direct beschikbaar [...] en onbewerkt overgenomen."
    Input: one column per taakveld (6.72, 6.82), rows per municipality, euros per inhabitant as
    published (whole euros). A municipality missing a taakveld counts it as zero lasten.
    """
    return lasten_per_inwoner_per_taakveld.fillna(0).sum(axis=1)


def lasten_per_inwoner_groep(lasten_per_inwoner: pd.Series, groups: pd.Series) -> pd.Series:
    """Lasten per inwoner of a reference group (Nederland, a size class): the mean over its municipalities.

    Annex 3 does not say how the rows "Nederland" and "100-150K" were averaged. A size-weighted
    average (total lasten over total inhabitants) cannot produce the published figures: with the
    printed size-class values for begroting 2017 (Tabel 2-10) a weighted national figure is at
    least about 206 euro, while Nederland's index 151 implies 194. The unweighted mean over
    municipalities, as benchmark tools such as Findo show group averages, fits every printed value,
    so that is the definition used. ``groups`` maps member code -> group code.
    """
    frame = pd.DataFrame({"value": lasten_per_inwoner, "group": groups}).dropna()
    return frame.groupby("group")["value"].mean()


def lasten_per_inwoner_pooled(lasten_x1000: pd.Series, lasten_per_inwoner: pd.Series,
                              groups: pd.Series) -> pd.Series:
    """Lasten per inwoner of a municipality formed by merger, from its predecessors (back-casting).

    Iv3 publishes no inhabitants, so each predecessor's inhabitants are implied by its own two
    published figures (lasten / lasten per inwoner); the merged figure is total lasten over total
    inhabitants, which is what the merged municipality's own figure would have been.
    ``groups`` maps predecessor code -> merged code.
    """
    inhabitants = lasten_x1000 * 1000.0 / lasten_per_inwoner.replace(0, np.nan)
    frame = pd.DataFrame({"lasten": lasten_x1000 * 1000.0, "inwoners": inhabitants, "group": groups}).dropna()
    sums = frame.groupby("group")[["lasten", "inwoners"]].sum()
    return sums["lasten"] / sums["inwoners"]


def index_lasten_per_inwoner(rekening: pd.Series, begroting_ijkjaar: pd.Series) -> pd.Series:
    """Index lasten per inwoner (annex 3, note 5): rekening 2019 against begroting 2017 = 100.

    "IJkpunt zijn de lasten per inwoner in de begroting 2017." Both inputs are rounded to whole
    euros first, the precision at which they are published.
    """
    return round_half_up(rekening, 0) / round_half_up(begroting_ijkjaar, 0) * 100.0


def pct_jeugdhulp_zonder_verblijf(zonder_verblijf: pd.Series, jongeren: pd.Series) -> pd.Series:
    """% jeugdigen met jeugdhulp zonder verblijf per half year (annex 3, note 6), one decimal.

    "Gebaseerd op CBS Kerncijfers code <JH121> op halfjaarbasis." For a single municipality CBS
    publishes this percentage itself; this function computes it for a group (Nederland, jeugdregio,
    size class, merged predecessors) as the pooled share: all youth with jeugdhulp zonder verblijf
    over all youth, rounded to one decimal as CBS does.
    """
    return round_half_up(zonder_verblijf / jongeren * 100.0, 1)


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
    their numbers of youth as weights (which equals the pooled share), rounded to one decimal.
    """
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
