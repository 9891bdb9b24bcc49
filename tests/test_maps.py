"""The maps (pipeline/case/maps.py): real 2020 boundaries decoded from TopoJSON, checksums, three states kept
apart (value, generated, no value), deterministic bytes."""

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.case import maps


def test_boundaries_are_the_verified_2020_files():
    municipalities = maps.load_shapes(maps.MUNICIPALITIES)
    regions = maps.load_shapes(maps.REGIONS)
    assert len(municipalities) == 355 and len(regions) == 42
    assert {"GM0150", "GM0344", "GM0297", "GM1894", "GM1674"} <= set(municipalities)
    lon, lat = np.concatenate([r for poly in municipalities["GM0150"] for r in poly]).T
    assert 6.0 < lon.mean() < 6.4 and 52.2 < lat.mean() < 52.3          # Deventer
    for polygons in municipalities.values():                           # every ring closes
        for polygon in polygons:
            for ring in polygon:
                assert np.allclose(ring[0], ring[-1], atol=1e-9)


def test_a_changed_boundary_file_is_refused(tmp_path):
    from pipeline.errors import SnapshotError

    (tmp_path / maps.MUNICIPALITIES).write_text("{}", encoding="utf-8")
    with pytest.raises(SnapshotError, match="sha256"):
        maps.load_shapes(maps.MUNICIPALITIES, str(tmp_path))


def test_decode_topology_applies_delta_transform_and_reversed_arcs():
    topology = {"type": "Topology", "transform": {"scale": [0.5, 0.5], "translate": [10, 20]},
                "arcs": [[[0, 0], [2, 0], [0, 2]], [[2, 2], [-2, 0], [0, -2]]],
                "objects": {"x": {"type": "GeometryCollection", "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"statcode": "A"}},
                    {"type": "Polygon", "arcs": [[~1, ~0]], "properties": {"statcode": "B"}}]}}}
    shapes = maps.decode_topology(topology, "x")
    ring = shapes["A"][0][0]
    assert ring.tolist() == [[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]]
    assert shapes["B"][0][0].tolist() == ring[::-1].tolist()


def test_classes_are_round_and_deciles_one_each():
    assert maps.nice_bins(pd.Series(range(1, 11)), "decile") == [0.5 + i for i in range(11)]
    bins = maps.nice_bins(pd.Series(np.linspace(150, 400, 100)), "euro")
    assert bins[0] <= 163 and bins[-1] >= 387 and len(set(np.diff(bins).round(6))) == 1


def _frame(generated=(), missing=()):
    codes = sorted(maps.load_shapes(maps.MUNICIPALITIES))
    frame = pd.DataFrame({"naam": codes, "pct_actueel": np.linspace(4, 10, len(codes))}, index=codes)
    frame["pct_actueel_herkomst"] = ["gegenereerd" if c in generated else "cbs" for c in codes]
    frame.loc[list(missing), "pct_actueel"] = np.nan
    return frame


def test_generated_and_missing_are_told_apart(built):
    frame = _frame(generated={"GM0150", "GM0200"}, missing={"GM0301"})
    fig, state = maps.national_map(built, frame, maps.INDICATORS[0], ["GM0150"], ["GM0200", "GM0301"])
    assert state["n_generated"] == 2 and state["missing"] == 1 and state["n_value"] == 352
    hatches = {c.get_hatch() for c in fig.axes[0].collections}
    assert {"...", "////"} <= hatches                                   # dots: generated; diagonal: no value
    text = maps.legend_text([state])
    assert "gegenereerd" in text and "geen waarde" in text and "CC BY 4.0" in text


def _hatched_square(face: str, hatch: str, colour: str) -> np.ndarray:
    """The pixels (RGB) inside a square drawn by maps._add_hatched."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

    with matplotlib.rc_context(maps.MAP_STYLE):
        fig = Figure(figsize=(1, 1), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        maps._add_hatched(ax, MplPath([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)], closed=True),
                          face, hatch, colour)
        ax.set(xlim=(0, 1), ylim=(0, 1))
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[20:80, 20:80, :3].reshape(-1, 3).astype(int)


def test_hatches_are_drawn_in_their_own_colour_over_the_fill():
    """Grey hatching on light grey for no value, white dots over the class colour for generated values
    (the hatch colour is not matplotlib's default black, and the fill stays the most common colour)."""
    def rgb(colour):
        return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]

    missing = _hatched_square(maps.MISSING_FACE, "////", maps.MISSING_HATCH)
    colours, counts = np.unique(missing, axis=0, return_counts=True)
    assert colours[counts.argmax()].tolist() == rgb(maps.MISSING_FACE)
    darkest = colours[colours.sum(axis=1).argmin()]
    assert len(set(darkest.tolist())) == 1 and rgb(maps.MISSING_HATCH)[0] <= darkest[0] <= rgb(maps.MISSING_HATCH)[0] + 40
    generated = _hatched_square("#21908d", "...", maps.GENERATED_HATCH)
    colours, counts = np.unique(generated, axis=0, return_counts=True)
    assert colours[counts.argmax()].tolist() == rgb("#21908d")
    assert colours.min(axis=1).max() >= 250                              # white dots


def test_maps_are_byte_identical_for_identical_data(built, tmp_path):
    frame = _frame(generated={"GM0150"})
    first = maps.write_case_map(built, frame.assign(**{c: frame["pct_actueel"] for c in
                                                       ("index_zonder_verblijf", "lasten_per_inwoner_rekening",
                                                        "ses_deciel")}),
                                "GM0150", ["GM0200", "GM0202"], "Deventer", tmp_path / "a")[0]
    second = maps.write_case_map(built, frame.assign(**{c: frame["pct_actueel"] for c in
                                                        ("index_zonder_verblijf", "lasten_per_inwoner_rekening",
                                                         "ses_deciel")}),
                                 "GM0150", ["GM0200", "GM0202"], "Deventer", tmp_path / "b")[0]
    assert first.read_bytes() == second.read_bytes()
    svg = first.with_suffix(".svg").read_text(encoding="utf-8")
    assert svg == (tmp_path / "b" / "kaart.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and first.stat().st_size < 400_000


def test_the_png_keeps_every_class_colour_exact(built, tmp_path):
    """The 256-colour PNG holds each class colour of the legend exactly (not an average of nearby colours);
    an image of at most 256 colours is written without any loss."""
    from PIL import Image

    from pipeline.case.figures import palette_image

    frame = _frame(generated={"GM0150"}, missing={"GM0301"})
    fig, state = maps.national_map(built, frame, maps.INDICATORS[0], ["GM0150"], ["GM0200"])
    png, _ = maps.save_figure(fig, tmp_path / "kaart")
    written = np.asarray(Image.open(png).convert("RGB"))
    classes = {tuple(round(255 * v) for v in state["cmap"](i)[:3]) for i in range(state["cmap"].N)}
    found = {tuple(c) for c in np.unique(written.reshape(-1, 3), axis=0)}
    assert classes <= found
    flat = np.zeros((40, 40, 4), dtype=np.uint8)                        # at most 256 colours: kept as they are
    flat[..., 3] = 255
    flat[:20, :, :3], flat[20:, :30, :3] = (68, 1, 84), (253, 231, 37)
    assert np.array_equal(np.asarray(palette_image(flat).convert("RGBA")), flat)


def test_the_copied_boundaries_carry_their_provenance():
    readme = (maps.REGIONS_DIR / "README.md").read_text(encoding="utf-8")
    for file, (_, sha) in maps.BOUNDARY_FILES.items():
        assert file in readme and sha in readme
    assert "cartomap/nl" in readme and "CC BY 4.0" in readme
    json.loads((maps.REGIONS_DIR / maps.MUNICIPALITIES).read_text(encoding="utf-8"))


def test_the_class_bars_show_every_bound_under_their_map_without_overlapping(built):
    """Each panel's class bar carries a label per class bound (deciles: 1-10) right under its map, and no
    label runs into the next row's title, the legend or another label: what a reader of the case map sees."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    frame = _frame(missing={"GM0301"})
    frame = frame.assign(index_zonder_verblijf=frame["pct_actueel"] * 20,
                         lasten_per_inwoner_rekening=frame["pct_actueel"] * 40,
                         ses_deciel=np.resize(np.arange(1, 11), len(frame)))
    fig, _ = maps.case_map(built, frame, "GM0150", ["GM0200", "GM0202"], "Deventer")
    renderer = FigureCanvasAgg(fig).get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    legend = fig.legends[0].get_window_extent(renderer)
    for ax, indicator in zip(fig.axes, maps.INDICATORS):
        bins = maps.nice_bins(frame[indicator.column], indicator.kind)
        wanted = [str(d) for d in range(1, 11)] if indicator.kind == "decile" else \
            [maps.label_of(b, indicator.kind) for b in bins]
        labels = [t for t in ax.texts if t.get_text() in wanted]
        assert [t.get_text() for t in labels] == wanted, indicator.slug
        boxes = [t.get_window_extent(renderer) for t in labels]
        map_box = ax.get_window_extent(renderer)
        for i, box in enumerate(boxes):
            assert map_box.y0 - 40 < box.y1 < map_box.y0, indicator.slug          # right under the map
            assert box.x0 >= 0 and box.x1 <= fig.bbox.width
            assert not any(box.overlaps(other) for other in boxes[i + 1:]), indicator.slug
            assert not any(box.overlaps(title) for title in titles) and not box.overlaps(legend), indicator.slug
