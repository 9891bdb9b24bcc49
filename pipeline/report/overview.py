"""The overview page (``reports/overzicht.html``): every municipality that was run, side by side.

One sortable table (click a column header; a few lines of inline script, nothing from a CDN) with
the key indicators and deciles of every executed case, and a scatter plot of lasten per inwoner
against % jeugdhulp zonder verblijf for all municipalities, the five chapter-6 cases highlighted, and
a map of the Netherlands per key indicator. :func:`write_figures` draws the figures (beside the case
notebooks: they do not depend on which cases ran), :func:`write_overview` writes the page from them; the
markup (and the sort script) is ``templates/overview.html``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from pipeline.case.tables import overview_frame
from pipeline.processed import GENERATED, KIND_SUFFIX, NEDERLAND, Processed, at_half_year
from pipeline.config import StudyConfig, load_config
from pipeline.errors import PipelineError
from pipeline.case.figures import STYLE, save_figure, tight_layout
from pipeline.case.provenance import sources_table_html
from pipeline.case.formatting import KIND_TITLES, NO_VALUE, NO_VALUE_TITLE, euro, percent, provenance_legend_html, whole
from pipeline.report.templates import markup, render


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


def _cell(row, column: str, fmt) -> dict:
    """One sortable cell: its value for sorting, its text, its provenance as class and tooltip."""
    value, kind = row[column], _kind(row, column)
    sort = "" if pd.isna(value) else float(value)
    if pd.isna(value):
        text, cls, title = (NO_VALUE, f"num no-value kind-{kind}", NO_VALUE_TITLE) if kind else ("x", "num", "")
    else:
        kind = kind or "cbs"
        text, cls, title = fmt(value), f"num kind-{kind}", KIND_TITLES[kind]
    return {"cls": cls, "sort": sort, "title": title, "text": text}


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


FIGURES_MANIFEST = "figuren.json"  # in reports/overzicht/: what the page says of each figure drawn there
MAP_STATE_KEYS = ("generated", "all_generated", "missing", "n_generated", "n_value")  # what captions and legend use


@dataclass(frozen=True)
class OverviewFigures:
    """The overview's figures as written: the scatter plot's PNG (inlined) and per national map its indicator,
    PNG and state (what is generated, for caption and legend)."""
    scatter_png: bytes
    maps: list[tuple]


def write_figures(config: StudyConfig, data: Processed, frame: pd.DataFrame) -> OverviewFigures:
    """Draw the scatter plot (``reports/overzicht/spreiding``) and the national maps, one per key indicator
    (``reports/overzicht/kaart_*``), PNG and SVG, and list them in ``overzicht/figuren.json`` for the page.

    They depend on the processed data and the config only, not on which cases ran, so the workflow draws
    them beside the case notebooks and the page (:func:`write_overview`) only reads them."""
    from pipeline.case.maps import write_national_maps
    from pipeline.iorw import write_text

    folder = config.reports_dir / "overzicht"
    nl_lasten = data.lasten.set_index("code").loc[NEDERLAND, "lasten_per_inwoner_rekening"]
    nl_pct = at_half_year(data.jeugdhulp, config.periods.jeugdhulp_current, "pct_zonder_verblijf")[NEDERLAND]
    fig = scatter_figure(config, frame, pd.Series({"pct": nl_pct, "lasten": nl_lasten}))
    png, _ = save_figure(fig, folder / "spreiding")
    cases = [c.code for c in config.cases]
    references = sorted({r for c in config.cases for r in c.references} - set(cases))
    maps = [(indicator, path, {key: state[key] for key in MAP_STATE_KEYS})
            for indicator, path, state in write_national_maps(config, frame, folder, cases, references)]
    manifest = {"scatter": png.name,
                "maps": [{"slug": indicator.slug, "png": path.name, "state": state} for indicator, path, state in maps]}
    write_text(folder / FIGURES_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return OverviewFigures(png.read_bytes(), maps)


def figure_outputs(config: StudyConfig) -> list[Path]:
    """The files :func:`write_figures` writes (for the lock of the step that draws them)."""
    from pipeline.case.maps import INDICATORS

    folder = config.reports_dir / "overzicht"
    stems = ["spreiding", *(f"kaart_{indicator.slug}" for indicator in INDICATORS)]
    return [folder / FIGURES_MANIFEST, *(folder / f"{stem}.{ext}" for stem in stems for ext in ("png", "svg"))]


def read_figures(config: StudyConfig) -> OverviewFigures:
    """The figures :func:`write_figures` wrote, for the page; a missing or unreadable manifest is an error
    that names the step to run again."""
    from pipeline.case.maps import INDICATORS

    folder = config.reports_dir / "overzicht"
    try:
        manifest = json.loads((folder / FIGURES_MANIFEST).read_text(encoding="utf-8"))
        by_slug = {indicator.slug: indicator for indicator in INDICATORS}
        maps = [(by_slug[m["slug"]], folder / m["png"], m["state"]) for m in manifest["maps"]]
        return OverviewFigures((folder / manifest["scatter"]).read_bytes(), maps)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipelineError(f"the overview's figures in {folder} are missing or unreadable ({exc}); run "
                            "`python -m pipeline report --force` to draw them again") from None


def write_figures_file(config_path: str) -> None:
    """:func:`write_figures` by config path: what the runner calls in a child process."""
    config = load_config(config_path)
    data = Processed.read(config.processed_dir)
    write_figures(config, data, overview_frame(config, data))


def map_figures(config: StudyConfig, written: list[tuple]) -> list[dict]:
    """What the page shows of each national map: file names, title, alt text, what is generated."""
    from pipeline.case.maps import _title, map_alt

    figures = []
    for indicator, png, state in written:
        title = _title(indicator, config)
        note = ("; alle waarden gegenereerd (demo)" if state["all_generated"] else
                f"; {state['n_generated']} gemeenten gegenereerd (demo)" if state["generated"] else "")
        figures.append({"png": png.name, "svg": f"{png.stem}.svg", "title": title, "note": note,
                        "alt": map_alt([title], "alle gemeenten van Nederland (indeling 2020)", [state])})
    return figures


def overview_html(config: StudyConfig, data: Processed, codes: list[str], failed: dict[str, str], stamp: str,
                  frame: pd.DataFrame, figures: OverviewFigures) -> str:
    """The page; ``frame``: :func:`pipeline.case.tables.overview_frame`, ``figures``: :func:`write_figures`."""
    from pipeline.case.maps import legend_text
    from pipeline.report.render import shell

    p = config.periods
    labels = {"base": p.jeugdhulp_base.label, "current": p.jeugdhulp_current.label,
              "before": p.jeugdhulp_before_covid.label}
    rows, kinds, empty = [], set(), set()
    for code in codes:
        if code not in frame.index:
            continue
        r = frame.loc[code]
        rows.append({"code": code, "name": r["naam"], "failed": code in failed, "size_class": str(r["grootteklasse"]),
                     "region": str(r["jeugdregio_naam"]), "cells": [_cell(r, col, fmt) for col, _, fmt in COLUMNS]})
        kinds.update(_kind(r, col) or "cbs" for col, _, _ in COLUMNS if not pd.isna(r[col]))
        empty.update("geen" for col, _, _ in COLUMNS if pd.isna(r[col]) and _kind(r, col))
        empty.update("nvt" for col, _, _ in COLUMNS if pd.isna(r[col]) and not _kind(r, col))
    generated = int(scatter_generated(frame).sum())
    alt = (f"Spreidingsdiagram van {len(frame)} gemeenten: lasten per inwoner tegen het percentage jeugdigen "
           "met jeugdhulp zonder verblijf; de vijf casussen van hoofdstuk 6 zijn rood gemarkeerd."
           + (f" Open rondjes ({generated} van {len(frame)}): berust op gegenereerde demo-waarden." if generated else ""))
    return render("overview.html", **shell("Overzicht gemeenten — hoofdstuk 6", data.generated, stamp),
                  scatter={"png": base64.b64encode(figures.scatter_png).decode("ascii"), "alt": alt,
                           "generated": generated, "total": len(frame)},
                  maps=map_figures(config, figures.maps), maps_legend=legend_text([s for _, _, s in figures.maps]),
                  headers=[h.format(**labels) for _, h, _ in COLUMNS], rows=rows,
                  legend=markup(provenance_legend_html(kinds, empty)), sources=markup(sources_table_html(data.provenance)))


def write_overview(config: StudyConfig, data: Processed, codes: list[str], failed: dict[str, str], stamp: str) -> Path:
    """Write ``reports/overzicht.html``, with the figures :func:`write_figures` drew in ``reports/overzicht``."""
    from pipeline.iorw import write_text

    frame = overview_frame(config, data)
    figures = read_figures(config)
    target = config.reports_dir / "overzicht.html"
    write_text(target, overview_html(config, data, codes, failed, stamp, frame, figures))
    return target


def write_overview_page(config_path: str, codes: list[str], failed: dict[str, str], stamp: str) -> None:
    """:func:`write_overview` by config path: what the runner calls in a child process."""
    config = load_config(config_path)
    write_overview(config, Processed.read(config.processed_dir), codes, failed, stamp)
