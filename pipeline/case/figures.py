"""Figuur 1-5: index % jongeren met jeugdzorg zonder verblijf per half year, case and references.

Figures are saved as PNG and SVG without timestamps or random ids, so identical data gives
byte-identical files.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.lines import Line2D

from pipeline.case.tables import CaseContext, index_series, line_labels
from pipeline.processed import GENERATED, KIND_SUFFIX, NEDERLAND
from pipeline.iorw import atomic_path

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "hoofdstuk6",  # fixed ids inside the SVG
    "svg.fonttype": "none",       # text stays text: smaller, searchable, deterministic
    "axes.spines.top": False,
    "axes.spines.right": False,
}
PNG_COMPRESS_LEVEL = 7  # zlib level of the PNGs (see _save_png)
REFERENCE_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2"]


def index_kinds(ctx: CaseContext, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """The provenance kind (cbs, afgeleid, gegenereerd) of every point of the figure, shaped like
    :func:`pipeline.case.tables.index_series` (half years by lines)."""
    data = index_series(ctx) if data is None else data
    jh = ctx.data.jeugdhulp
    jh = jh[jh["halfjaar"].notna() & jh["code"].isin(list(data.columns))]
    label = jh["jaar"].astype(int).astype(str) + "HJ" + jh["halfjaar"].astype(int).astype(str) \
        + jh["voorlopig"].map({True: "*", False: ""})
    kinds = pd.DataFrame({"periode_label": label, "code": jh["code"],
                          "kind": jh[f"index_zonder_verblijf{KIND_SUFFIX}"]})
    wide = kinds.drop_duplicates(["periode_label", "code"]).pivot(index="periode_label", columns="code",
                                                                    values="kind")
    return wide.reindex(index=data.index, columns=data.columns)


def lighter(colour: str, share: float = 0.5) -> str:
    """``colour`` mixed with white (``share`` white): the lighter line of generated values."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([c + (1 - c) * share for c in to_rgb(colour)])


def _generated_from(values: pd.Series, kinds: pd.Series) -> int | None:
    """Position of the first point resting on generated values (with a value), or None."""
    for i, (value, kind) in enumerate(zip(values, kinds)):
        if kind == GENERATED and not pd.isna(value):
            return i
    return None


def index_figure(ctx: CaseContext, number: int | None = None, data: pd.DataFrame | None = None,
                 kinds: pd.DataFrame | None = None):
    """The figure of one case: bold case line, dashed Nederland, dotted region, thin references.

    Points resting on generated (demo) values have open markers, and the line from the last real
    point on is drawn lighter; a legend entry says so. ``data`` and ``kinds``: :func:`index_series` and
    :func:`index_kinds` when the caller has them already (:func:`pipeline.case.notebook.write_figure`).
    """
    data = index_series(ctx) if data is None else data
    kinds = index_kinds(ctx, data) if kinds is None else kinds
    labels = line_labels(ctx)
    any_generated = False
    with matplotlib.rc_context(STYLE):
        # a bare Figure, not pyplot: no global state, no backend, the same bytes in a kernel and a script
        fig = Figure(figsize=(8.0, 4.5))
        ax = fig.subplots()
        x = list(range(len(data.index)))
        refs = iter(REFERENCE_COLOURS)
        for code in data.columns:
            if code == ctx.case.code:
                style = dict(color="#c0392b", linewidth=3.0, zorder=5)
            elif code == NEDERLAND:
                style = dict(color="black", linewidth=2.0, linestyle="--", zorder=4)
            elif code == ctx.case.jeugdregio:
                style = dict(color="#555555", linewidth=2.0, linestyle=":", zorder=4)
            else:
                style = dict(color=next(refs), linewidth=1.4, zorder=3)
            values = list(data[code].values)
            start = _generated_from(data[code], kinds[code])
            real_end = len(x) if start is None else max(start, 1)  # the real part ends on the last real point
            if start is None or start > 0:
                ax.plot(x[:real_end], values[:real_end], marker="o", markersize=3.5, label=labels.get(code, code),
                        **style)
            if start is not None:
                any_generated = True
                first = max(start - 1, 0)  # the lighter line starts from the last real point
                # a lighter shade of the line's colour, not transparency: opaque colours keep the PNG small
                faded = dict(style, color=lighter(style["color"]))
                ax.plot(x[first:], values[first:], **{k: v for k, v in faded.items() if k != "zorder"},
                        zorder=style["zorder"] - 0.5, label=labels.get(code, code) if start == 0 else None)
                ax.plot(x[start:], values[start:], linestyle="none", marker="o", markersize=5,
                        markerfacecolor="white", markeredgecolor=style["color"], markeredgewidth=1.2,
                        zorder=style["zorder"] + 0.1)
        handles, names = ax.get_legend_handles_labels()
        if any_generated:
            handles.append(Line2D([], [], color=lighter("#555555"), marker="o", markersize=5,
                                  markerfacecolor="white", markeredgecolor="#555555"))
            names.append("gegenereerd (demo)")
        ax.axhline(100, color="#999999", linewidth=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels([half_year_text(label) for label in data.index], rotation=0, fontsize=8)
        base = ctx.config.periods.jeugdhulp_base
        ax.set_ylabel(f"index ({base.half}e hj {base.year} = 100)")
        # no title in the image: the caption ("Figuur N ...") is printed once, under the figure, by the page
        ax.legend(handles, names, fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        notes = (["* voorlopige cijfers"] if any(str(i).endswith("*") for i in data.index) else []) + \
            (["open rondjes: berust op gegenereerde demo-waarden, geen CBS-cijfers"] if any_generated else [])
        if notes:
            fig.text(0.01, 0.01, "; ".join(notes), fontsize=7, color="#555555")
        tight_layout(fig)
    return fig


def half_year_text(label: str) -> str:
    """A period key as the report writes half years: '2017HJ1' -> '1e hj 2017' ('*' for provisional kept)."""
    import re

    found = re.fullmatch(r"(\d{4})HJ([12])(\*?)", str(label))
    return f"{found.group(2)}e hj {found.group(1)}{found.group(3)}" if found else str(label)


def figure_caption(ctx: CaseContext, number: int | None) -> str:
    """The report's caption of a case figure: 'Figuur 1 Index % jongeren met jeugdzorg zonder verblijf
    (halfjaarbasis) Deventer e.a.'."""
    return ((f"Figuur {number} " if number else "")
            + f"Index % jongeren met jeugdzorg zonder verblijf (halfjaarbasis) {ctx.name} e.a.")


FONT_SIZES = (6, 6.5, 7, 7.5, 8, 9, 10)  # every font size of the figures and maps (10: axis labels, the default)


def warm_up() -> None:
    """Pay the first-use costs of a figure once, in the parent that forks a child per notebook
    (:func:`pipeline.execute.preload`), not in every child: the font lookup of each size in
    :data:`FONT_SIZES` (in :data:`STYLE`; about a millisecond each), markers, both hatches, the PNG and SVG
    writers, and the parts of pandas the figure's data first imports (pivot table, CSV writer)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(0.5, 0.5))
        ax = fig.subplots()
        ax.set_axis_off()  # no ticks to lay out: their font is among FONT_SIZES
        for size in FONT_SIZES:
            ax.text(0, 0, "w", fontsize=size)
        ax.plot([0, 1], [0, 1], marker="o")
        for hatch in ("...", "////"):
            ax.fill([0, 1, 1], [0, 0, 1], hatch=hatch)
        _save_png(fig, io.BytesIO(), {})
        fig.savefig(io.BytesIO(), format="svg")
    frame = pd.DataFrame({"line": ["a"], "period": ["2017HJ1"], "value": [1.0]})
    frame.pivot_table(index="period", columns="line", values="value").to_csv(io.StringIO())


def tight_layout(fig) -> None:
    """``fig.tight_layout()`` without leaving a layout engine on the figure: with one, every savefig
    draws the figure an extra time (the same bytes, ~25% slower).

    ``rect=None``, not the default ``(0, 0, 1, 1)``: with a rect matplotlib measures every Axes a second time
    to fit the subplots into it, and for the whole figure that pass returns the margins of the first."""
    TightLayoutEngine(rect=None).execute(fig)


FLAT_COLOURS = 64       # palette entries kept for the most frequent colours, exactly (see palette_image)
FLAT_MIN_PIXELS = 64    # ... each covering at least this many pixels (an 8 x 8 area)


def palette_image(rgba: np.ndarray) -> "Image.Image":
    """A 256-colour palette image of ``rgba`` (height x width x 4, opaque), without dithering, in which
    the colours of flat areas stay exact.

    A map or figure is mostly flat colour (classes, hatches, the background, lines) plus the few
    thousand blends that anti-aliasing makes along their edges. The :data:`FLAT_COLOURS` most frequent
    colours (of at least :data:`FLAT_MIN_PIXELS` pixels) get a palette entry of their own, and only the
    remaining pixels, the blends, are quantised into the other entries (Pillow's fast octree). An image
    of at most 256 colours keeps them all. Six times faster than a median cut of the whole image (the
    case map: 0.02 s instead of 0.12 s; the cut spends its time on the blends), and every class colour
    is exact by construction. Deterministic: ties in frequency go by colour value."""
    from PIL import Image

    height, width, _ = rgba.shape
    # R | G << 8 | B << 16 per pixel, whatever the machine's byte order; alpha dropped (opaque figures)
    packed = rgba.view("<u4").reshape(-1) & np.uint32(0xFFFFFF)
    # runs of one colour along the rows: far fewer than pixels, so counting colours is cheap
    starts = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
    lengths = np.diff(starts, append=packed.size)
    colours, run_colour = np.unique(packed[starts], return_inverse=True)
    pixels_per_colour = np.bincount(run_colour, weights=lengths)
    by_frequency = np.lexsort((colours, -pixels_per_colour))
    if len(colours) <= 256:
        flat = by_frequency
    else:
        top = by_frequency[:FLAT_COLOURS]
        flat = top[pixels_per_colour[top] >= FLAT_MIN_PIXELS]
    entry = np.full(len(colours), -1, dtype=np.int16)
    entry[flat] = np.arange(len(flat))
    indices = np.repeat(entry[run_colour], lengths)
    palette = [colours[flat].astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]]
    blends = indices < 0
    if blends.any():
        blend_indices, blend_palette = _quantise(rgba.reshape(-1, 4)[blends, :3], 256 - len(flat))
        indices[blends] = blend_indices + len(flat)
        palette.append(blend_palette)
    image = Image.fromarray(indices.astype(np.uint8).reshape(height, width), mode="P")
    image.putpalette(np.concatenate(palette).tobytes())
    return image


def _quantise(pixels: np.ndarray, colours: int) -> tuple[np.ndarray, np.ndarray]:
    """``pixels`` (n x 3) in at most ``colours`` colours, without dithering (Pillow's fast octree): the
    palette index of each pixel and the palette (m x 3, up to the highest entry used)."""
    from PIL import Image

    quantised = Image.fromarray(np.ascontiguousarray(pixels).reshape(1, -1, 3)).quantize(
        colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    indices = np.asarray(quantised).reshape(-1)
    used = int(indices.max()) + 1
    return indices, np.asarray(quantised.getpalette()[:3 * used], dtype=np.uint8).reshape(-1, 3)


def _save_png(fig, target, metadata: dict) -> None:
    """The PNG with a 256-colour palette (:func:`palette_image`): a third of the size of matplotlib's RGBA
    output, which the reports inline, and just as sharp for line art. Deterministic (no dates in the file).

    zlib level 7, not 9 (``optimize``): the same pixels, 2-4% more bytes, a fifth of the encoding time
    (the case map: 0.13 s at level 9, 0.02 s at level 7)."""
    # the raw RGBA pixels, as the PNG would hold them: no PNG to encode and decode again
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba")
    width, height = (round(v * matplotlib.rcParams["savefig.dpi"]) for v in fig.get_size_inches())
    rgba = np.frombuffer(buffer.getbuffer(), dtype=np.uint8).reshape(height, width, 4)
    palette_image(rgba).save(target, format="PNG", compress_level=PNG_COMPRESS_LEVEL)


def save_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg deterministically (no dates, fixed hash salt), atomically."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(STYLE):
        for ext, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            target = stem.with_suffix(f".{ext}")
            with atomic_path(target, suffix=f".{ext}") as tmp:
                if ext == "png":
                    _save_png(fig, tmp, metadata)
                else:
                    fig.savefig(tmp, format=ext, metadata=metadata)
            paths.append(target)
    return paths


def figure_data(ctx: CaseContext, data: pd.DataFrame | None = None, kinds: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """The numbers behind the figure, with readable column names and, after each line, its provenance
    kind per half year (``<line>_herkomst``: cbs, afgeleid, gegenereerd), for the CSV next to it;
    ``data`` and ``kinds`` as for :func:`index_figure`."""
    data = index_series(ctx) if data is None else data
    kinds = index_kinds(ctx, data) if kinds is None else kinds
    labels = line_labels(ctx)
    out = pd.DataFrame(index=data.index)
    for code in data.columns:
        name = labels.get(code, code)
        out[name] = data[code]
        out[f"{name}{KIND_SUFFIX}"] = kinds[code].where(data[code].notna())
    return out
