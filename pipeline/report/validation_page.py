"""The validation page (``reports/validation.html``): a notebook like the case reports, rendered the same way.

The notebook ``notebooks/validatie.ipynb`` calls the functions here; each returns HTML. The page
shows the summary split by provenance (real data apart from generated, calibrated data), the
tolerance and its margin, the findings (errata from the data and the printed values), the effect of
every configured choice, the prose claims, and every cell side by side.
"""

from __future__ import annotations

import html

import pandas as pd

from pipeline.config import StudyConfig, load_config
from pipeline.check.validate import (CHOICES_FILE, DERIVATION_MARGIN, DIFFERS, ERRATUM_KINDS, MATCH, MATCH_MARGIN, NOT_COMPUTABLE,
                       NOT_PUBLISHED, PROSE_FILE, REAL_KINDS, ValidationResult)
from pipeline.check.summary import provenance_split, read_summary

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


def _e(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def _ident(value) -> str:
    """A column name or claim id, escaped, with break opportunities after ``_``, ``-`` and ``/``."""
    return _e(value).replace("_", "_<wbr>").replace("-", "-<wbr>").replace("/", "/<wbr>")


def _table(headers: list[str], rows: list[list[str]], css: str = "h6-table") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def summary_html(result: ValidationResult) -> str:
    n = result.counts()
    r, g, t = n["echt"], n["gegenereerd"], n["tekst"]
    errata = f"{n['errata']} {'erratum' if n['errata'] == 1 else 'errata'}"
    rows = [
        ["<strong>echte data</strong> (cbs, afgeleid)", str(r["gepubliceerd"]), str(r["gelijk"]), str(r["binnen_marge"]),
         str(r["verklaard"]), f"<strong>{r['onverklaard']}</strong>", str(r["niet_berekenbaar"]),
         "wat het rapport echt toetst"],
        ["gegenereerde data", str(g["gepubliceerd"]), str(g["gelijk"]), str(g["binnen_marge"]), str(g["verklaard"]),
         f"<strong>{g['onverklaard']}</strong>", str(g["niet_berekenbaar"]), f"<em>{CALIBRATED}</em>"],
    ]
    return ("<h1>Reproductie van hoofdstuk 6: berekend naast gepubliceerd</h1>"
            f'<p class="summary-line"><strong>Echte data: {r["gelijk"] + r["binnen_marge"]} van {r["gepubliceerd"]}'
            f"</strong> gepubliceerde cellen gelijk ({r['binnen_marge']} binnen de afleidingsmarge), {r['verklaard']} "
            f"verklaard verschil, {r['onverklaard']} onverklaard; gegenereerd ({CALIBRATED}): {g['gelijk'] + g['binnen_marge']} van "
            f"{g['gepubliceerd']}. Tekst op echte data: {t['echt_klopt']} van {t['echt']} beweringen kloppen. "
            f"<strong>{errata}</strong> in het rapport; {n['unexplained']} onverklaard in totaal.</p>"
            + _table(["cellen", "gepubliceerd", "gelijk", "binnen marge", "verklaard verschil", "onverklaard",
                      "niet berekenbaar", ""], rows)
            + "<p>Alleen cellen die uit echte CBS-data berekend zijn (<code>cbs</code>, <code>afgeleid</code>) zeggen "
            "iets over het rapport. De demo-generator heeft de overige invoer (<code>gegenereerd</code>) op de gedrukte "
            "waarden gekalibreerd: dat die cellen gelijk zijn, bewijst niets.</p>")


def tolerance_html(result: ValidationResult | None = None) -> str:
    m = f"{DERIVATION_MARGIN:.1f}".replace(".", ",")
    return ("<h2>Tolerantie per herkomst</h2><ul>"
            "<li><code>cbs</code> en <code>gegenereerd</code>: op de gedrukte afronding (decielen, euro's en indexcijfers "
            "als gehele getallen, percentages op één decimaal, half naar boven).</li>"
            f"<li><code>afgeleid</code> percentages (% jeugdhulp zonder verblijf 2015-2017 uit 83432NED): binnen ±{m} "
            "procentpunt van het gedrukte getal, status <em>gelijk binnen afleidingsmarge</em>, apart geteld. "
            "83432NED publiceert aantallen afgerond op 5 en een relatief cijfer op één decimaal; de afleiding telt twee "
            "afgeronde aantallen op (alleen ZIN + ZIN en pgb, ±5) en deelt door een jeugdbasis die zelf uit een afgerond "
            "aantal en een afgerond percentage volgt. Voor een casusgemeente (300-1.000 jongeren, 5-10%) is dat ongeveer "
            f"±{m} pp bovenop de gedrukte afronding. Jongeren met alleen pgb telt de afleiding niet mee, dus het echte "
            "84134NED-cijfer kan ook iets hoger liggen (zie Maasdriel).</li>"
            "<li>Een index naast een <code>afgeleide</code> basis is consistent als de gedrukte index ligt binnen "
            f"(gedrukt actueel ± 0,05) / (berekende basis ∓ {m}) × 100; ook dat telt als <em>gelijk binnen "
            "afleidingsmarge</em>. Kolom <em>toets echte basis</em> toont die toets voor elke gedrukte index.</li></ul>")


def errata_html(result: ValidationResult) -> str:
    errata = result.errata
    if errata.empty:
        return "<h2>Errata in het rapport</h2><p>Geen tegenstrijdigheden gevonden.</p>"
    if "soort" not in errata:
        errata = errata.assign(soort="", bewijs="", echte_waarde="")
    true = errata[errata["soort"].isin(ERRATUM_KINDS)]
    other = errata[~errata["soort"].isin(ERRATUM_KINDS)]

    def rows(frame):
        return [[_e(r.soort), _e(f"Tabel {r.tabel}" if r.tabel else ""), _e(r.rij_label), _ident(r.kolom),
                 f"<span class='num'>{_e(r.gedrukt)}</span>", _e(r.echte_waarde), _e(r.toelichting), _e(r.bewijs)]
                for r in frame.itertuples()]
    headers = ["soort", "tabel", "rij", "kolom", "gedrukt", "echte waarde", "bevinding", "bewijs"]
    out = ("<h2>Errata in het rapport</h2><p>Gevonden uit de data en de gedrukte waarden, niet met de hand "
           "opgesomd: een gedrukte basis die de echte CBS-waarde én de gedrukte index tegenspreekt (de index past wel "
           "bij gedrukt actueel / echte basis, niet bij de gedrukte basis); een index die zijn twee gedrukte "
           "percentages tegenspreekt; één rij die in twee tabellen verschilt; een bewering van de tekst die op de "
           "gedrukte tabellen zelf niet klopt.</p>" + _table(headers, rows(true)))
    if len(other):
        out += ("<h3>Andere noemers dan CBS</h3><p>Rijen waarvan de gedrukte lasten per gebruiker en per inwoner samen "
                "een verhouding inwoners/gebruikers vragen die de CBS-gebruikers (84134NED) en -inwoners (03759ned) niet "
                "hebben: geen lastenbedrag geeft beide cellen; het verschil in de ene cel is verklaard.</p>"
                + _table(headers, rows(other)))
    return out


def choices_html(result: ValidationResult) -> str:
    choices = result.choices
    if choices is None or choices.empty:
        return "<h2>Keuzes</h2><p>Geen keuzes in <code>data/processed/keuzes.csv</code>.</p>"
    rows = []
    for r in choices.itertuples():
        kind = _e(getattr(r, "herkomst", ""))
        note = f" <em>({CALIBRATED})</em>" if kind == "gegenereerd" else ""
        rows.append([_e(r.keuze), f"<strong>{_e(r.optie)}</strong> (gekozen)" if r.gekozen else _e(r.optie),
                     kind + note, str(r.cellen), str(r.gelijk),
                     _e(r.omgeslagen) if int(r.cellen) else "geen gedrukte cel hangt van deze keuze af"])
    return ("<h2>Keuzes die het rapport open laat</h2><p>Per keuze in <code>config/study.yml</code> "
            "(<code>choices:</code>) en per optie: hoeveel gedrukte cellen de keuze raakt, hoeveel er gelijk zijn met "
            "die optie, en welke cellen omslaan ten opzichte van de gekozen optie.</p>"
            + _table(["keuze", "optie", "herkomst", "cellen", "gelijk", "omgeslagen t.o.v. gekozen"], rows))


def prose_html(result: ValidationResult) -> str:
    prose = result.prose
    if prose is None or prose.empty:
        return "<h2>Tekst</h2><p>De beweringen van de tekst zijn niet getoetst.</p>"
    t = result.counts()["tekst"]
    real = prose["herkomst"].isin(REAL_KINDS)
    rows = []
    for part, title in ((prose[real], "echte data"), (prose[~real], "gegenereerde data of geen invoer")):
        for r in part.itertuples():
            reason = r.reden_beoordeeld or r.reden
            mark = "" if not r.bevinding else (" (verklaard)" if r.verwacht else " <strong>(onverklaard)</strong>")
            rows.append([_ident(r.id), _e(r.herkomst) + ("" if r.herkomst in REAL_KINDS or not r.herkomst
                                                     else f" <em>({CALIBRATED})</em>"),
                         _e(r.geciteerd), _e(r.berekend), _e(r.status) + mark, _e(r.gedrukt_status), _e(reason)])
    return ("<h2>Beweringen in de tekst</h2>"
            f"<p>{t['claims']} getallen uit de toelichtingen van hoofdstuk 6 (<code>hoofdstuk6_tekst.csv</code>), "
            f"berekend uit de verwerkte data: op echte data {t['echt_klopt']} van {t['echt']} kloppen "
            f"({t['echt_verklaard']} verklaard, {t['echt_onverklaard']} onverklaard); op gegenereerde data "
            f"{t['gegenereerd_klopt']} van {t['gegenereerd']} ({CALIBRATED}: alleen de tabellen zijn gekalibreerd); "
            f"{t['niet_berekenbaar']} niet berekenbaar. Kolom <em>op gedrukte tabellen</em>: dezelfde bewering "
            "berekend uit de gedrukte tabellen zelf; klopt die daar niet, dan staat hij bij de errata.</p>"
            + _table(["bewering", "herkomst", "geciteerd", "berekend", "status", "op gedrukte tabellen", "reden"], rows))


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".").rstrip("0").rstrip(",")


def cells_html(result: ValidationResult) -> str:
    rows = []
    for r in result.cells.itertuples():
        status = STATUS_NL.get(r.status, r.status)
        kind = getattr(r, "herkomst", "") or ""
        check = getattr(r, "toets_echte_basis", "") or ""
        rows.append(f'<tr class="status-{r.status.replace(" ", "-").replace("(", "").replace(")", "")} '
                    f'kind-{html.escape(kind)}"><td>{r.tabel}</td>'
                    f"<td>{html.escape(str(r.rij_label))}</td><td>{_ident(r.kolom)}</td>"
                    f"<td>{html.escape(kind)}</td>"
                    f"<td class='num'>{html.escape(str(r.gepubliceerd_gedrukt))}</td>"
                    f"<td class='num'>{_fmt(r.berekend)}</td><td class='num'>{_fmt(r.verschil)}</td>"
                    f"<td>{status}</td><td>{html.escape(str(getattr(r, 'verklaring', '') or ''))}</td>"
                    f"<td>{html.escape(str(r.reden) if isinstance(r.reden, str) else '')}</td>"
                    f"<td>{html.escape(str(check))}</td></tr>")
    return ("<h2>Alle cellen</h2>"
            '<table class="h6-table validation"><thead><tr><th>tabel</th><th>rij</th><th>kolom</th><th>herkomst</th>'
            "<th>gepubliceerd</th><th>berekend</th><th>verschil</th><th>status</th><th>verklaring</th><th>reden</th>"
            "<th>toets echte basis</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


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
