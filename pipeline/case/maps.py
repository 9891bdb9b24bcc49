"""Maps of the Netherlands: key indicators per municipality, jeugdregio borders, a case and its group.

The boundaries are the real 2020 municipality and jeugdregio boundaries (CBS gebiedsindelingen via
``cartomap/nl``, copied with their provenance and sha256 into ``data/external/regions/``). TopoJSON is
decoded here (quantised, delta-encoded arcs; ``transform`` scale and translate; ``~i`` is arc ``i``
reversed): about forty lines, so no geopandas/shapely dependency. Nothing geometric is repaired: the
maps only fill and stroke rings, and matplotlib fills the few self-intersecting polygons fine.

Colours: matplotlib's ``viridis`` (perceptually uniform, readable with every common colour-vision
deficiency and in greyscale), classed into a few steps so a reader can match a colour to the legend.
Three states are kept apart, and the legend says so:

* a value (CBS or derived from CBS): the colour of its class;
* a value resting on **generated (demo) values**: the same colour under a fine white dot pattern;
* **no value** (suppressed, absent): light grey with dark diagonal hatching, never a colour.

Figures are saved through :func:`pipeline.case.figures.save_figure`: PNG and SVG, no dates, fixed SVG hash
salt, so identical data gives identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN
from matplotlib.patches import Patch, Polygon
from matplotlib.path import Path as MplPath
from matplotlib.transforms import offset_copy

from pipeline.config import ROOT
from pipeline.errors import SnapshotError
from pipeline.case.figures import STYLE, save_figure
from pipeline.case.formatting import dutch
from pipeline.processed import GENERATED, KIND_SUFFIX

REGIONS_DIR = ROOT / "data" / "external" / "regions"
BOUNDARY_FILES = {  # file: (object name, sha256)
    "gemeente_2020.topojson": ("gemeente_2020", "e44db19d67ebc7e58aebf7a62635c374df27febd31e6bc4c71ee00a4277a7335"),
    "jeugdregio_2020.topojson": ("jeugdregio_2020", "f58b6eefaaa6aacdbe6fe7d420488c12f2dd413348f1b2702f96907e776bc8c5"),
}
MUNICIPALITIES, REGIONS = "gemeente_2020.topojson", "jeugdregio_2020.topojson"
CREDIT = "Grenzen: CBS gebiedsindelingen 2020 (cartomap/nl), CC BY 4.0"
MISSING_FACE, MISSING_HATCH = "#eeeeee", "#6b6b6b"
GENERATED_HATCH = "#ffffff"
CASE_EDGE, REFERENCE_EDGE, REGION_EDGE = "#000000", "#000000", "#3a3a3a"
ASPECT = 1 / math.cos(math.radians(52.2))  # lon/lat degrees drawn to scale at the latitude of the country
BAR_ASPECT, BAR_PAD, BAR_EXTEND, BAR_TICK = 32, 0.012, 0.045, 2  # the class bar: length/height, gap and open
# ends as fractions of the map's width and height, tick marks in points
MAP_STYLE = {**STYLE, "hatch.linewidth": 0.6, "axes.spines.left": False, "axes.spines.bottom": False}


@dataclass(frozen=True)
class Indicator:
    column: str          # column of pipeline.report.overview.overview_frame
    slug: str            # file name: kaart_<slug>.png
    title: str           # Dutch, with {current} {base} {year} {income}
    kind: str            # percent, index, euro, decile
    short: str = ""      # the title of a small panel (case map)


INDICATORS = (
    Indicator("pct_actueel", "pct_zonder_verblijf", "% jeugdigen met jeugdhulp zonder verblijf, {current}", "percent",
              "% jeugdhulp zonder verblijf {current}"),
    Indicator("index_zonder_verblijf", "index_zonder_verblijf",
              "Index % jeugdigen met jeugdhulp zonder verblijf, {current} ({base} = 100)", "index",
              "Index % zonder verblijf {current} ({base} = 100)"),
    Indicator("lasten_per_inwoner_rekening", "lasten_per_inwoner", "Lasten jeugdzorg per inwoner, rekening {year}",
              "euro", "Lasten per inwoner, rekening {year}"),
    Indicator("ses_deciel", "ses_deciel", "SES-deciel (mediaan gestandaardiseerd inkomen {income}; 1 = laag)",
              "decile", "SES-deciel {income} (1 = laag inkomen)"),
)


# ---------------------------------------------------------------------------------------------
# TopoJSON


def _verified(path: Path, sha256: str) -> bytes:
    if not path.exists():
        raise SnapshotError(f"boundary file missing: {path} (see data/external/regions/README.md)")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise SnapshotError(f"{path} does not match its sha256 in pipeline/case/maps.py and "
                            "data/external/regions/README.md; restore the file or review the new one")
    return raw


def decode_topology(topology: dict, name: str) -> dict[str, list[list[np.ndarray]]]:
    """Polygons per ``statcode``: a list of polygons, each a list of rings (n x 2 arrays, lon/lat)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = np.asarray(arc, dtype=float)
        if transform:  # quantised: delta-encoded integer positions, then scale and translate
            points = np.cumsum(points, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(points)

    def ring(indices) -> np.ndarray:
        parts = []
        for i in indices:
            points = arcs[i] if i >= 0 else arcs[~i][::-1]
            parts.append(points if not parts else points[1:])  # consecutive arcs share their end point
        return np.concatenate(parts)

    shapes = {}
    for geometry in topology["objects"][name]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        shapes[geometry["properties"]["statcode"]] = [[ring(r) for r in polygon] for polygon in polygons]
    return shapes


@lru_cache(maxsize=4)
def load_shapes(file: str, directory: str | None = None) -> dict[str, list[list[np.ndarray]]]:
    """The decoded, checksum-verified shapes of one boundary file, per code (cached per process)."""
    name, sha256 = BOUNDARY_FILES[file]
    raw = _verified(Path(directory or REGIONS_DIR) / file, sha256)
    return decode_topology(json.loads(raw), name)


def project(points: np.ndarray) -> np.ndarray:
    """lon/lat to plot coordinates: longitude shrunk by cos(52.2°), so the country keeps its shape."""
    return np.column_stack([points[:, 0] / ASPECT, points[:, 1]])


def shape_path(polygons: list[list[np.ndarray]]) -> MplPath:
    """One compound path for all rings of a shape (holes keep their opposite orientation)."""
    vertices, codes = [], []
    for polygon in polygons:
        for ring in polygon:
            xy = project(ring)
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(vertices), np.concatenate(codes).astype(np.uint8))


@lru_cache(maxsize=4)
def paths(file: str) -> dict[str, MplPath]:
    return {code: shape_path(shape) for code, shape in sorted(load_shapes(file).items())}


@lru_cache(maxsize=4)
def _catalogue(file: str) -> tuple[list[str], np.ndarray]:
    """The codes of one boundary file (sorted, as :func:`paths`) and their bounding boxes, an n x 4 array
    ``x0, y0, x1, y1``: measured once, so a map finds the shapes in its window in one comparison."""
    shapes = paths(file)
    codes = list(shapes)
    return codes, np.array([shapes[code].get_extents().get_points().ravel() for code in codes])


def _within(file: str, extent) -> list[str]:
    """The codes whose bounding box overlaps ``extent`` ``((x0, x1), (y0, y1))``, in the order of :func:`paths`."""
    codes, boxes = _catalogue(file)
    (x0, x1), (y0, y1) = extent
    inside = (boxes[:, 0] <= x1) & (boxes[:, 2] >= x0) & (boxes[:, 1] <= y1) & (boxes[:, 3] >= y0)
    return [code for code, keep in zip(codes, inside) if keep]


def preload() -> None:
    """Decode, verify, project and measure the boundaries now (a parent process forking a child per notebook)."""
    for file in (MUNICIPALITIES, REGIONS):
        _catalogue(file)


# ---------------------------------------------------------------------------------------------
# Classes and colours


def nice_bins(values: pd.Series, kind: str) -> list[float]:
    """Class bounds: deciles 1-10 one class each; otherwise six classes of round width between the
    5th and 95th percentile (the outer classes open-ended), so a few outliers do not wash out the map.
    Always of equal width (:func:`colour_bar` relies on it)."""
    if kind == "decile":
        return [0.5 + i for i in range(11)]
    values = values.dropna().astype(float)
    if values.empty:
        return [0.0, 1.0]
    low, high = np.percentile(values, [5, 95])
    if high <= low:
        high = low + 1
    raw = (high - low) / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    bounds = [start + i * step for i in range(int(math.ceil((high - start) / step)) + 1)]
    return [round(b, 6) for b in bounds]


def label_of(value: float, kind: str) -> str:
    text = f"{value:,.1f}" if kind == "percent" and value != int(value) else f"{value:,.0f}"
    text = dutch(text)
    return {"percent": f"{text}%", "euro": f"€ {text}"}.get(kind, text)


def colour_scale(bins: list[float]):
    colours = matplotlib.colormaps["viridis"].resampled(len(bins) - 1)(range(len(bins) - 1))
    return ListedColormap(colours), BoundaryNorm(bins, len(bins) - 1, clip=True)


# ---------------------------------------------------------------------------------------------
# Drawing


def _add(ax, shapes: list[MplPath], **style) -> PathCollection:
    """Add one collection of shapes to ``ax``, leaving its data limits alone: every map sets its window
    itself, so measuring the shapes (all their vertices) for autoscaling would be wasted."""
    return ax.add_collection(PathCollection(shapes, **style), autolim=False)


def _add_hatched(ax, shape: MplPath, face: str, hatch: str, colour: str) -> None:
    """Fill ``shape`` with ``face`` under a ``hatch`` pattern in ``colour``, without an outline.

    The pattern takes the edge colour, and the edge is not stroked (width 0): matplotlib 3.10 and 3.11 both
    draw the hatch in the edge colour (3.11's ``hatchcolor`` argument does not exist in 3.10)."""
    _add(ax, [shape], facecolors=face, hatch=hatch, edgecolors=colour, linewidths=0, zorder=1.5)


def draw_map(ax, frame: pd.DataFrame, indicator: Indicator, bins: list[float], *,
             extent, cases: list[str] = (), references: list[str] = (), labels: dict[str, str] | None = None,
             line_scale: float = 1.0) -> dict:
    """Fill every municipality of ``frame`` (indexed by code) that lies in ``extent`` ``((x0, x1), (y0, y1))``
    on ``ax``; returns what the legend needs."""
    shapes = paths(MUNICIPALITIES)
    visible = _within(MUNICIPALITIES, extent)
    cmap, norm = colour_scale(bins)
    values = frame[indicator.column] if indicator.column in frame else pd.Series(dtype=float)
    kinds = frame.get(f"{indicator.column}{KIND_SUFFIX}", pd.Series(dtype=object))
    values = values.reindex(visible).to_numpy(dtype=float)
    has_value = ~np.isnan(values)
    is_generated = has_value & (kinds.reindex(visible) == GENERATED).to_numpy()
    filled = [shapes[code] for code, keep in zip(visible, has_value) if keep]
    classes = np.asarray(norm(values[has_value]))  # the class of each filled shape's value (a plain array)
    generated = [shapes[code] for code, keep in zip(visible, is_generated) if keep]
    missing = [shapes[code] for code, keep in zip(visible, has_value) if not keep]
    counts = {"value": int(has_value.sum() - is_generated.sum()), "generated": int(is_generated.sum()),
              "missing": len(missing)}
    edge = dict(edgecolors="#ffffff", linewidths=0.25 * line_scale)
    if filled:  # one compound path per class: one <path> per colour in the SVG, not one per municipality
        drawn = sorted(set(classes.tolist()))
        _add(ax, [_compound(filled, classes == c) for c in drawn], facecolors=cmap(drawn), **edge, zorder=1)
    # the patterns are one compound path each: one pattern fill in the SVG, not one per municipality
    if generated:
        _add_hatched(ax, MplPath.make_compound_path(*generated), "none", "...", GENERATED_HATCH)
    if missing:
        missing = [MplPath.make_compound_path(*missing)]
        _add_hatched(ax, missing[0], MISSING_FACE, "////", MISSING_HATCH)
        _add(ax, missing, facecolors="none", **edge, zorder=1.5)
    # the outlines too: each kind of line (borders, reference group) one compound path
    regions = [MplPath.make_compound_path(*[paths(REGIONS)[code] for code in _within(REGIONS, extent)])]
    _add(ax, regions, facecolors="none", edgecolors=REGION_EDGE, linewidths=0.7 * line_scale, zorder=2)
    refs = [shapes[c] for c in references if c in shapes]
    if refs:  # white halo under a dashed black line: visible on dark and light classes
        refs = [MplPath.make_compound_path(*refs)]
        _add(ax, refs, facecolors="none", edgecolors="#ffffff", linewidths=2.2 * line_scale, zorder=3)
        _add(ax, refs, facecolors="none", edgecolors=REFERENCE_EDGE, linewidths=1.1 * line_scale,
             linestyles=(0, (2.5, 1.5)), zorder=3.1)
    own = [shapes[c] for c in cases if c in shapes]
    if own:
        _add(ax, own, facecolors="none", edgecolors="#ffffff", linewidths=3.6 * line_scale, zorder=4)
        _add(ax, own, facecolors="none", edgecolors=CASE_EDGE, linewidths=2.0 * line_scale, zorder=4.1)
    codes, boxes = _catalogue(MUNICIPALITIES)
    for code, text in (labels or {}).items():
        if code in shapes:  # at the centre of the shape's box (inside the window, which holds every labelled shape)
            x0, y0, x1, y1 = boxes[codes.index(code)]
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, ha="center", va="center", fontsize=6.5, zorder=6,
                    color="#000000", bbox=dict(boxstyle="round,pad=0.15", fc="#ffffff", ec="none", alpha=0.8))
    (x0, x1), (y0, y1) = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    # no ticks, no spines (MAP_STYLE) and a white background on a white figure: switched off, the axes' own
    # artists are neither laid out nor drawn (the same pixels, ~3% fewer calls per draw)
    ax.set_axis_off()
    return {"cmap": cmap, "norm": norm, "generated": bool(counts["generated"]),
            "all_generated": bool(counts["generated"]) and not counts["value"],
            "missing": counts["missing"], "n_generated": counts["generated"], "n_value": counts["value"]}


def _compound(shapes: list[MplPath], keep: np.ndarray) -> MplPath:
    """The shapes where ``keep`` holds, as one path: filled and stroked in one go, which looks the same (only
    the anti-aliasing of a border shared inside the path differs) and is one element in the SVG, not many."""
    return MplPath.make_compound_path(*[shapes[i] for i in np.flatnonzero(keep)])


def _extent(file: str, codes: list[str] | None, margin: float):
    """The box around the shapes ``codes`` of ``file`` (every shape: ``None``), widened by ``margin`` of
    its size on each side; from the boxes :func:`_catalogue` measured once."""
    catalogue, boxes = _catalogue(file)
    if codes is not None:
        boxes = boxes[np.isin(catalogue, codes)]
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return (x0 - dx, x1 + dx), (y0 - dy, y1 + dy)


def group_extent(codes: list[str], margin: float = 0.12):
    """The box around a case and its group, widened to a square-ish window of at least ~0.5 degrees."""
    (x0, x1), (y0, y1) = _extent(MUNICIPALITIES, codes, margin)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0, 0.35) / 2
    return (cx - half, cx + half), (cy - half, cy + half)


def colour_bar(ax, state: dict, indicator: Indicator, bins: list[float], extent, compact: bool = False) -> None:
    """A horizontal bar of the classes right under the map, with the class bounds as labels (deciles: one
    class per decile, labelled in its middle; otherwise open-ended outer classes, drawn as triangles).

    Drawn from its parts in the map's own axes coordinates, which follow the box the map is drawn in: one
    collection of class cells, one outline, one line of tick marks and a text per label. Not
    ``fig.colorbar``: that adds an axes with its own axis, locator, formatter and a tick object per bound,
    which cost half the time of a case map for the same few rectangles and labels."""
    (x0, x1), (y0, y1) = extent
    height = (x1 - x0) / (y1 - y0) / BAR_ASPECT  # in axes fractions: the box is the window drawn to scale
    top, bottom = -BAR_PAD, -BAR_PAD - height
    middle = (top + bottom) / 2
    classes = len(bins) - 1
    decile = indicator.kind == "decile"
    inner = 0.0 if decile else BAR_EXTEND  # where the classes start; the open ends are triangles before and after
    edges = np.linspace(inner, 1 - inner, classes + 1)
    cells = [[(a, bottom), (b, bottom), (b, top), (a, top)] for a, b in zip(edges[:-1], edges[1:])]
    colours = list(state["cmap"](range(classes)))
    outline = [(inner, bottom), (1 - inner, bottom), (1 - inner, top), (inner, top)]
    if not decile:  # values below the first and above the last bound take the outer classes' colours
        cells += [[(inner, bottom), (0, middle), (inner, top)], [(1 - inner, bottom), (1, middle), (1 - inner, top)]]
        colours += [colours[0], colours[-1]]
        outline = [(0, middle), *outline[:2], (1, middle), *outline[2:]]
    style = dict(transform=ax.transAxes, clip_on=False, zorder=7)
    ax.add_collection(PolyCollection(cells, facecolors=colours, edgecolors="face", linewidths=0.3, **style),
                      autolim=False)
    ax.add_patch(Polygon(outline, closed=True, fill=False, edgecolor="#000000", linewidth=0.5, **style))
    if decile:
        positions = (edges[:-1] + edges[1:]) / 2
        ticks = list(range(1, classes + 1))
    else:
        positions, ticks = edges, bins
    ax.plot(positions, [bottom] * len(positions), linestyle="none", marker=TICKDOWN,
            markersize=BAR_TICK, markeredgewidth=0.5, color="#000000", **style)
    # the labels hang under the tick marks: the same offset in points whatever the size of the map
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-(BAR_TICK + 1), units="points")
    size = 6.5 if compact else 7.5
    for x, tick in zip(positions, ticks):
        ax.text(x, bottom, label_of(tick, indicator.kind), transform=below, ha="center", va="top", fontsize=size,
                clip_on=False, zorder=7)


def swatches(states: list[dict], cases: bool, references: bool) -> list:
    """Legend entries for what is not a colour: generated values, no value, the outlines."""
    handles = []
    if any(s["generated"] for s in states):
        handles.append(Patch(facecolor=matplotlib.colormaps["viridis"](0.45), hatch="...", edgecolor=GENERATED_HATCH,
                             label="gegenereerd (demo): wit gestippeld"))
    if any(s["missing"] for s in states):
        handles.append(Patch(facecolor=MISSING_FACE, hatch="////", edgecolor=MISSING_HATCH,
                             label="geen waarde: grijs gearceerd"))
    if cases:
        handles.append(Line2D([], [], color=CASE_EDGE, linewidth=2.0, label="casus"))
    if references:
        handles.append(Line2D([], [], color=REFERENCE_EDGE, linewidth=1.1, linestyle=(0, (2.5, 1.5)),
                              label="referentiegroep"))
    handles.append(Line2D([], [], color=REGION_EDGE, linewidth=0.7, label="grens jeugdregio"))
    return handles


def _title(indicator: Indicator, config, short: bool = False) -> str:
    p = config.periods
    cur, base = p.jeugdhulp_current, p.jeugdhulp_base
    return (indicator.short if short else indicator.title).format(current=half_year_label(cur.year, cur.half),
                                  base=half_year_label(base.year, base.half),
                                  year=p.iv3_rekening_year, income=p.income_year)


def half_year_label(year: int, half: int) -> str:
    """A half year as the report writes it: '1e hj 2017'."""
    return f"{half}e hj {year}"


def national_map(config, frame: pd.DataFrame, indicator: Indicator, cases: list[str], references: list[str]):
    """One indicator for every municipality of the classification year; the cases and their groups outlined."""
    bins = nice_bins(frame[indicator.column], indicator.kind)
    with matplotlib.rc_context(MAP_STYLE):
        fig = Figure(figsize=(5.0, 6.4))
        ax = fig.subplots()
        extent = _extent(MUNICIPALITIES, None, margin=0.05)
        state = draw_map(ax, frame, indicator, bins, cases=cases, references=references, extent=extent,
                         labels={c: frame.loc[c, "naam"] for c in cases if c in frame.index}, line_scale=0.8)
        title = textwrap.fill(_title(indicator, config), 58) + \
            ("\nalle waarden gegenereerd (demo)" if state["all_generated"] else "")
        ax.set_title(title, fontsize=9, loc="left")
        colour_bar(ax, state, indicator, bins, extent)
        ax.legend(handles=swatches([state], bool(cases), bool(references)), loc="upper left", fontsize=7,
                  frameon=True, framealpha=0.9, edgecolor="none", handlelength=1.6, borderaxespad=0.2)
        fig.text(0.01, 0.005, CREDIT, fontsize=6, color="#555555")
        fig.subplots_adjust(left=0.02, right=0.98, top=0.915, bottom=0.09)  # the class bar under the map
    return fig, state


def case_map(config, frame: pd.DataFrame, case: str, references: list[str], name: str):
    """The case and its group, zoomed in, one small panel per key indicator (2 x 2)."""
    extent = group_extent([case, *references])
    labels = {c: frame.loc[c, "naam"] for c in [case, *references] if c in frame.index}
    states = {}
    with matplotlib.rc_context(MAP_STYLE):
        fig = Figure(figsize=(7.6, 8.4))
        axes = fig.subplots(2, 2).ravel()
        for ax, indicator in zip(axes, INDICATORS):
            bins = nice_bins(frame[indicator.column], indicator.kind)  # national classes: comparable with the overview
            state = draw_map(ax, frame, indicator, bins, cases=[case], references=references, extent=extent,
                             labels=labels, line_scale=1.0)
            title = _title(indicator, config, short=True) + ("\ngegenereerd (demo)" if state["all_generated"] else "")
            ax.set_title(title, fontsize=7.5, loc="left")
            colour_bar(ax, state, indicator, bins, extent, compact=True)
            states[indicator.slug] = state
        fig.legend(handles=swatches(list(states.values()), True, bool(references)), loc="lower center", ncol=5,
                   fontsize=6.5, frameon=False, handlelength=1.6, bbox_to_anchor=(0.5, 0.018))
        fig.text(0.01, 0.005, CREDIT + "; kleurklassen als op de landelijke kaarten", fontsize=6, color="#555555")
        # the class bars hang under the maps, in the space between the rows and above the legend
        fig.subplots_adjust(left=0.02, right=0.98, top=0.965, bottom=0.081, hspace=0.221, wspace=0.05)
    return fig, states


def legend_text(states: dict | list) -> str:
    """The Dutch legend under a map on the page: what colour, dots and hatching mean."""
    states = list(states.values()) if isinstance(states, dict) else list(states)
    parts = ["Kleur: klasse van de waarde (schaal viridis, leesbaar bij kleurenblindheid en in grijstinten)"]
    if any(s["generated"] for s in states):
        parts.append("wit gestippeld: de waarde berust op gegenereerde demo-waarden (gekalibreerd op het rapport), "
                     "geen CBS-cijfer")
    if any(s["missing"] for s in states):
        parts.append("grijs gearceerd: geen waarde in de bron, niet nul")
    parts.append("dikke zwarte lijn: casus; gestreept: referentiegroep; dunne donkere lijn: grens jeugdregio")
    return "; ".join(parts) + ". " + CREDIT + "."


def write_national_maps(config, frame: pd.DataFrame, directory: Path, cases: list[str],
                        references: list[str]) -> list[tuple[Indicator, Path, dict]]:
    out = []
    for indicator in INDICATORS:
        fig, state = national_map(config, frame, indicator, cases, references)
        png, _ = save_figure(fig, directory / f"kaart_{indicator.slug}")
        out.append((indicator, png, state))
    return out


def write_case_map(config, frame: pd.DataFrame, case: str, references: list[str], name: str,
                   directory: Path) -> tuple[Path, dict]:
    fig, states = case_map(config, frame, case, references, name)
    png, _ = save_figure(fig, directory / "kaart")
    return png, states


def map_alt(indicator_titles: list[str], where: str, states: list[dict]) -> str:
    generated = sum(s["n_generated"] for s in states)
    missing = sum(s["missing"] for s in states)
    return (f"Kaart{'en' if len(indicator_titles) > 1 else ''} van {where}: {'; '.join(indicator_titles)}."
            + (" Gestippelde gemeenten berusten op gegenereerde demo-waarden." if generated else "")
            + (f" {missing} keer geen waarde (gearceerd)." if missing else ""))
