"""Figuur 1-5: index % jongeren met jeugdzorg zonder verblijf per half year, case and references.

Figures are saved as PNG and SVG without timestamps or random ids, so identical data gives
byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine

from .case import NEDERLAND, CaseContext, index_series, line_labels
from .iorw import atomic_path

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "hoofdstuk6",  # fixed ids inside the SVG
    "svg.fonttype": "none",       # text stays text: smaller, searchable, deterministic
    "axes.spines.top": False,
    "axes.spines.right": False,
}
REFERENCE_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2"]


def index_figure(ctx: CaseContext, number: int | None = None):
    """The figure of one case: bold case line, dashed Nederland, dotted region, thin references."""
    data = index_series(ctx)
    labels = line_labels(ctx)
    with matplotlib.rc_context(STYLE):
        # a bare Figure, not pyplot: no global state, no backend, the same bytes in a kernel and a script
        fig = Figure(figsize=(8.0, 4.5))
        ax = fig.subplots()
        x = range(len(data.index))
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
            ax.plot(list(x), data[code].values, marker="o", markersize=3, label=labels.get(code, code), **style)
        ax.axhline(100, color="#999999", linewidth=0.8)
        ax.set_xticks(list(x))
        ax.set_xticklabels(data.index, rotation=0, fontsize=8)
        base = ctx.config.periods.jeugdhulp_base
        ax.set_ylabel(f"index ({base.year} {base.half}e halfjaar = 100)")
        title = f"Index % jongeren met jeugdzorg zonder verblijf (halfjaarbasis) {ctx.name} e.a."
        ax.set_title((f"Figuur {number} " if number else "") + title, fontsize=10, loc="left")
        ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        if any(str(i).endswith("*") for i in data.index):
            fig.text(0.01, 0.01, "* voorlopige cijfers", fontsize=7, color="#555555")
        tight_layout(fig)
    return fig


def tight_layout(fig) -> None:
    """``fig.tight_layout()`` without leaving a layout engine on the figure: with one, every savefig
    draws the figure an extra time (the same bytes, ~25% slower)."""
    TightLayoutEngine().execute(fig)


def save_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg deterministically (no dates, fixed hash salt), atomically."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(STYLE):
        for ext, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            target = stem.with_suffix(f".{ext}")
            with atomic_path(target, suffix=f".{ext}") as tmp:
                fig.savefig(tmp, format=ext, metadata=metadata)
            paths.append(target)
    return paths


def figure_data(ctx: CaseContext) -> pd.DataFrame:
    """The numbers behind the figure, with readable column names, for the CSV next to it."""
    data = index_series(ctx)
    return data.rename(columns=line_labels(ctx))
