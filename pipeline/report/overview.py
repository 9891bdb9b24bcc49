"""The overview page (``reports/overzicht.html``): every municipality that was run, side by side.

One sortable table (click a column header; a few lines of inline script, nothing from a CDN) with
the key indicators and deciles of every executed case, and a scatter plot of lasten per inwoner
against % jeugdhulp zonder verblijf for all municipalities, the five chapter-6 cases highlighted.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from pipeline.case.tables import overview_frame
from pipeline.processed import GENERATED, KIND_SUFFIX, NEDERLAND, Processed, at_half_year
from pipeline.config import StudyConfig, load_config
from pipeline.case.figures import STYLE, save_figure, tight_layout
from pipeline.case.provenance import sources_table_html
from pipeline.case.formatting import KIND_TITLES, NO_VALUE, NO_VALUE_TITLE, euro, percent, provenance_legend_html, whole


SORT_SCRIPT = """
<script>
// Sort a table by the clicked column; numbers by their data-value, text alphabetically (Dutch collation).
document.querySelectorAll('table.sortable th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column], y = b.cells[column];
      var vx = x.dataset.value, vy = y.dataset.value, result;
      if (vx !== undefined && vy !== undefined) { result = (parseFloat(vx) || -Infinity) - (parseFloat(vy) || -Infinity); }
      else { result = x.textContent.localeCompare(y.textContent, 'nl'); }
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
</script>
"""

COLUMNS = [  # (source column, header, formatter)
    ("ses_deciel", "SES-deciel", whole),
    ("armoede_deciel", "Armoede-deciel", whole),
    ("lasten_per_gebruiker", "Lasten per gebruiker", euro),
    ("lasten_per_inwoner_rekening", "Lasten per inwoner", euro),
    ("index_lasten_per_inwoner", "Index lasten/inw.", whole),
    ("pct_basis", "% zonder verblijf {base}", percent),
    ("pct_actueel", "% zonder verblijf {current}", percent),
    ("index_zonder_verblijf", "Index % zonder verblijf ({base}=100)", whole),
    ("deciel_zonder_verblijf_voor_covid", "Deciel % zonder verblijf {before} (10 = hoogste)", whole),
    ("pct_met_verblijf_actueel", "% met verblijf {current}", percent),
]


def _kind(row, column: str) -> str | None:
    kind = row.get(f"{column}{KIND_SUFFIX}")
    return kind if isinstance(kind, str) else None


def _cell(row, column: str, fmt) -> str:
    """One sortable cell: its value for sorting, its text, its provenance as class and tooltip."""
    value, kind = row[column], _kind(row, column)
    sort = "" if pd.isna(value) else float(value)
    if pd.isna(value):
        text, cls, title = (NO_VALUE, f"num no-value kind-{kind}", NO_VALUE_TITLE) if kind else ("x", "num", "")
    else:
        kind = kind or "cbs"
        text, cls, title = fmt(value), f"num kind-{kind}", KIND_TITLES[kind]
    tip = f" title='{html.escape(title, quote=True)}'" if title else ""
    return f"<td class='{cls}' data-value='{sort}'{tip}>{text}</td>"


def scatter_generated(frame: pd.DataFrame) -> pd.Series:
    """Whether a point of the scatter plot rests on a generated value (either axis)."""
    return (frame["pct_actueel_herkomst"] == GENERATED) | (frame["lasten_per_inwoner_rekening_herkomst"] == GENERATED)


def scatter_figure(config: StudyConfig, frame: pd.DataFrame, nederland: pd.Series):
    """Lasten per inwoner against % zonder verblijf, every municipality; the five cases labelled."""
    current = config.periods.jeugdhulp_current
    cases = [c.code for c in config.cases]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8.0, 5.0))
        ax = fig.subplots()
        generated = scatter_generated(frame)
        case_index = [c for c in cases if c in frame.index]
        others = frame.drop(index=case_index)
        for part, colour, size, label, zorder in ((others, "#9aa5b1", 12, "overige gemeenten", 2),
                                                  (frame.loc[case_index], "#c0392b", 40, "casussen hoofdstuk 6", 3)):
            real, fake = part[~generated[part.index]], part[generated[part.index]]
            if len(real):
                ax.scatter(real["pct_actueel"], real["lasten_per_inwoner_rekening"], s=size, color=colour,
                           label=label, zorder=zorder)
            if len(fake):
                ax.scatter(fake["pct_actueel"], fake["lasten_per_inwoner_rekening"], s=size, facecolors="white",
                           edgecolors=colour, linewidths=1.0, zorder=zorder,
                           label=f"{label}, gegenereerd (demo)")
        chosen = frame.loc[case_index]
        for code, row in chosen.iterrows():
            ax.annotate(row["naam"], (row["pct_actueel"], row["lasten_per_inwoner_rekening"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
        ax.axvline(nederland["pct"], color="black", linestyle="--", linewidth=1)
        ax.axhline(nederland["lasten"], color="black", linestyle="--", linewidth=1)
        ax.set_xlabel(f"% jeugdigen met jeugdhulp zonder verblijf, {current.half}e halfjaar {current.year}")
        ax.set_ylabel(f"lasten per inwoner, rekening {config.periods.iv3_rekening_year} (euro)")
        ax.set_title("Lasten per inwoner en gebruik jeugdhulp zonder verblijf (stippellijn: Nederland)",
                     fontsize=10, loc="left")
        ax.legend(fontsize=8, frameon=False)
        tight_layout(fig)
    return fig


def maps_html(config: StudyConfig, frame: pd.DataFrame) -> str:
    """The national maps, one per key indicator (drawn once per build, linked, not inlined: small pages)."""
    from pipeline.case.maps import legend_text, map_alt, write_national_maps, _title

    cases = [c.code for c in config.cases]
    references = sorted({r for c in config.cases for r in c.references} - set(cases))
    written = write_national_maps(config, frame, config.reports_dir / "overzicht", cases, references)
    figures = []
    for indicator, png, state in written:
        title = _title(indicator, config)
        alt = map_alt([title], "alle gemeenten van Nederland (indeling 2020)", [state])
        note = ("; alle waarden gegenereerd (demo)" if state["all_generated"] else
                f"; {state['n_generated']} gemeenten gegenereerd (demo)" if state["generated"] else "")
        figures.append(f'<figure class="h6-figure h6-map"><img src="overzicht/{png.name}" alt="{html.escape(alt)}" '
                       f'width="550" height="704"><figcaption>Kaart: {html.escape(title)}{note} '
                       f'(ook als <a href="overzicht/{png.stem}.svg">SVG</a>)</figcaption></figure>')
    return ('<h2 id="kaarten">Kaarten</h2><p>Per kengetal alle gemeenten van de indeling 2020; de vijf casussen van '
            "hoofdstuk 6 dik omlijnd en met naam, hun referentiegemeenten gestreept omlijnd, de grenzen van de "
            "jeugdregio's als donkere lijn.</p>"
            f'<div class="map-grid">{"".join(figures)}</div>'
            f'<p class="legend">{html.escape(legend_text([s for _, _, s in written]))}</p>')


def overview_html(config: StudyConfig, data: Processed, codes: list[str], failed: dict[str, str]) -> str:
    frame = overview_frame(config, data)
    nl_lasten = data.lasten.set_index("code").loc[NEDERLAND, "lasten_per_inwoner_rekening"]
    nl_pct = at_half_year(data.jeugdhulp, config.periods.jeugdhulp_current, "pct_zonder_verblijf")[NEDERLAND]
    fig = scatter_figure(config, frame, pd.Series({"pct": nl_pct, "lasten": nl_lasten}))
    png, _ = save_figure(fig, config.reports_dir / "overzicht" / "spreiding")
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    p = config.periods
    labels = {"base": p.jeugdhulp_base.label, "current": p.jeugdhulp_current.label,
              "before": p.jeugdhulp_before_covid.label}
    head = ("<th scope='col'>gemeente</th><th scope='col'>code</th><th scope='col'>grootteklasse</th>"
            "<th scope='col'>jeugdregio</th>"
            + "".join(f"<th scope='col'>{html.escape(h.format(**labels))}</th>" for _, h, _ in COLUMNS))
    rows, kinds, empty = [], set(), set()
    for code in codes:
        if code not in frame.index:
            continue
        r = frame.loc[code]
        link = f'<a href="{code}.html">{html.escape(r["naam"])}</a>' + (" (mislukt)" if code in failed else "")
        cells = "".join(_cell(r, col, fmt) for col, _, fmt in COLUMNS)
        kinds.update(_kind(r, col) or "cbs" for col, _, _ in COLUMNS if not pd.isna(r[col]))
        empty.update("geen" for col, _, _ in COLUMNS if pd.isna(r[col]) and _kind(r, col))
        empty.update("nvt" for col, _, _ in COLUMNS if pd.isna(r[col]) and not _kind(r, col))
        rows.append(f"<tr><th scope='row'>{link}</th><td>{code}</td><td>{html.escape(str(r['grootteklasse']))}</td>"
                    f"<td>{html.escape(str(r['jeugdregio_naam']))}</td>{cells}</tr>")
    generated = int(scatter_generated(frame).sum())
    alt = (f"Spreidingsdiagram van {len(frame)} gemeenten: lasten per inwoner tegen het percentage jeugdigen "
           "met jeugdhulp zonder verblijf; de vijf casussen van hoofdstuk 6 zijn rood gemarkeerd."
           + (f" Open rondjes ({generated} van {len(frame)}): berust op gegenereerde demo-waarden." if generated else ""))
    plot_note = (f'<p class="legend">Open rondjes: het punt berust op gegenereerde demo-waarden (lasten per inwoner '
                 f"of % zonder verblijf; {generated} van de {len(frame)} gemeenten), geen CBS-cijfers; dichte rondjes: "
                 "CBS of afgeleid uit CBS.</p>") if generated else ""
    return ("<h1>Overzicht van alle doorgerekende gemeenten</h1>"
            f"<p>{len(rows)} gemeenten. Klik op een kolomkop om te sorteren.</p>"
            f'<figure class="h6-figure"><img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'
            "<figcaption>Lasten per inwoner en gebruik jeugdhulp zonder verblijf, alle gemeenten</figcaption>"
            f"{plot_note}</figure>"
            + maps_html(config, frame) +
            f'<div class="scroll"><table class="h6-table sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>'
            + provenance_legend_html(kinds, empty)
            + f"<h2>Gegevens</h2>{sources_table_html(data.provenance)}"
            + SORT_SCRIPT)


def write_overview(config: StudyConfig, data: Processed, codes: list[str], failed: dict[str, str], stamp: str) -> Path:
    from pipeline.iorw import write_text
    from pipeline.report.render import page

    target = config.reports_dir / "overzicht.html"
    write_text(target, page("Overzicht gemeenten — hoofdstuk 6", overview_html(config, data, codes, failed),
                            data.generated, stamp))
    return target


def write_overview_page(config_path: str, codes: list[str], failed: dict[str, str], stamp: str) -> None:
    """:func:`write_overview` by config path: what the runner calls in a child process."""
    config = load_config(config_path)
    write_overview(config, Processed.read(config.processed_dir), codes, failed, stamp)
