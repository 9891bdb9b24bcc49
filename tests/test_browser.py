"""The reports as a reader sees them: opened from disk in headless Chromium with networking off.

Checks that nothing is requested from the network, the console stays clean, the figures load, the
tables show the case's numbers in Dutch format, every link resolves, and the page is readable
(language, captions, alt text, right-aligned numbers, methods and provenance). Screenshots land in
reports/screenshots/ of the repository, for a human to look at.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pipeline.case.tables import CaseContext, gebruik_table, lasten_table
from pipeline.processed import Processed
from pipeline.config import ROOT
from pipeline.report.exports import LOCAL_SCHEMES, find_chromium, offline_browser
from pipeline.case.formatting import display_frame

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(find_chromium() is None,
                                 reason="Chromium not found at /usr/bin/chromium (`make test` installs it as root "
                                        "with apt-get; or set H6_CHROMIUM)")]

SCREENSHOTS = ROOT / "reports" / "screenshots"

PAGE_FACTS = """() => ({
  lang: document.documentElement.lang,
  title: document.title,
  h1: [...document.querySelectorAll('h1')].map(h => h.innerText.trim()),
  h2: [...document.querySelectorAll('h2')].map(h => h.innerText.trim()),
  images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth, alt: i.alt})),
  tables: [...document.querySelectorAll('table')].map(t => ({
    caption: t.caption ? t.caption.innerText.trim() : '',
    rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim())),
  })),
  numAlign: [...document.querySelectorAll('td.num')].map(td => getComputedStyle(td).textAlign),
  figcaptions: [...document.querySelectorAll('figcaption')].map(f => f.innerText.trim()),
  links: [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, text: a.innerText.trim()})),
  summary: !!document.querySelector('dl.summary'),
  legends: [...document.querySelectorAll('p.legend')].map(p => ({text: p.innerText.trim(),
    visible: p.offsetHeight > 0 && getComputedStyle(p).visibility !== 'hidden'})),
  generatedStyle: [...document.querySelectorAll('td.kind-gegenereerd')].slice(0, 1).map(td => getComputedStyle(td).fontStyle),
  cbsStyle: [...document.querySelectorAll('td.kind-cbs')].slice(0, 1).map(td => getComputedStyle(td).fontStyle),
  provenance: !!document.querySelector('footer.provenance'),
})"""


@pytest.fixture(scope="module")
def visits(rendered):
    """Every report opened once in headless Chromium: what it requested, logged and showed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = ["index"] + [c.code for c in rendered.cases] + ["hoofdstuk6", "overzicht"]
    out = {}
    with offline_browser() as (context, blocked):
        for name in pages:
            page = context.new_page()
            requests, console, errors = [], [], []
            page.on("request", lambda r, acc=requests: acc.append(r.url))
            page.on("console", lambda m, acc=console: acc.append((m.type, m.text)) if m.type == "error" else None)
            page.on("pageerror", lambda e, acc=errors: acc.append(str(e)))
            page.goto((rendered.reports_dir / f"{name}.html").resolve().as_uri(), wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
            out[name] = {"requests": requests, "console": console, "errors": errors, **facts}
            if name == "index":  # follow the first case link like a reader would
                page.click(f'a[href="{rendered.cases[0].code}.html"]')
                page.wait_for_load_state("load")
                out["followed"] = page.url
            page.close()
        out["blocked"] = list(blocked)
    return out


def test_no_request_leaves_the_machine(visits):
    assert visits["blocked"] == []
    for name, visit in visits.items():
        if isinstance(visit, dict):
            remote = [u for u in visit["requests"] if not u.startswith(LOCAL_SCHEMES)]
            assert remote == [], name


def test_no_console_errors_or_script_errors(visits):
    for name, visit in visits.items():
        if isinstance(visit, dict):
            assert visit["console"] == [] and visit["errors"] == [], name


def test_figures_load_and_have_alt_text(rendered, visits):
    for case in rendered.cases:
        images = visits[case.code]["images"]
        assert images, case.code
        for image in images:
            assert image["complete"] and image["width"] > 0, case.code
            assert len(image["alt"]) > 60 and ("Lijndiagram" in image["alt"] or "Kaart" in image["alt"]), case.code
        assert any(c.startswith(f"Figuur {case.figure} ") for c in visits[case.code]["figcaptions"])
        assert any(i["alt"].startswith("Kaarten van") for i in images), case.code          # the case map
        assert any(c.startswith("Kaart ") for c in visits[case.code]["figcaptions"]), case.code


def test_chapter_page_shows_every_table_and_figure(rendered, visits):
    """reports/hoofdstuk6.html: Tabel 1-11 with their captions, Figuur 1-5 loaded, caption once each."""
    chapter = visits["hoofdstuk6"]
    captions = [" ".join(t["caption"].split()[:2]) for t in chapter["tables"] if t["caption"].startswith("Tabel ")]
    assert captions == [f"Tabel {n}" for n in range(1, 12)]
    tabel1 = next(t for t in chapter["tables"] if t["caption"].startswith("Tabel 1 "))
    assert tabel1["rows"][0][1:] == ["100.000-150.000", "20.000-50.000", "50.000-100.000", "20.000-50.000",
                                     "150.000-300.000"]
    figures = [c for c in chapter["figcaptions"] if c.startswith("Figuur ")]
    assert [f.split()[1] for f in figures] == ["1", "2", "3", "4", "5"]
    assert len(chapter["images"]) == 5 and all(i["complete"] and i["width"] > 0 for i in chapter["images"])
    tabel4 = next(t for t in chapter["tables"] if t["caption"].startswith("Tabel 4 "))
    amersfoort = next(r for r in tabel4["rows"] if r[0] == "Amersfoort")
    assert amersfoort[3:] == ["€ 10.250#", "-", "-"]
    assert (SCREENSHOTS / "hoofdstuk6.png").stat().st_size > 50_000


def test_overview_shows_a_map_per_key_indicator(visits):
    overview = visits["overzicht"]
    maps = [i for i in overview["images"] if i["alt"].startswith("Kaart")]
    assert len(maps) == 4 and all(i["complete"] and i["width"] >= 500 for i in maps)
    assert any("gegenereerd" in l["text"] and "CC BY 4.0" in l["text"] for l in overview["legends"])


def test_tables_show_the_case_values_in_dutch_format(rendered, visits):
    data = Processed.read(rendered.processed_dir)
    for case in rendered.cases:
        ctx = CaseContext(config=rendered, case=case, data=data)
        shown = {t["caption"].split(" ", 2)[1]: t["rows"] for t in visits[case.code]["tables"]
                 if t["caption"].startswith("Tabel ")}
        assert "1" in shown, case.code
        for number, table in ((case.table_lasten, lasten_table(ctx)), (case.table_gebruik, gebruik_table(ctx))):
            expected = display_frame(table, rendered)
            rows = shown[str(number)]
            assert [r[0] for r in rows] == [str(i) for i in expected.index], (case.code, number)
            assert [r[1:] for r in rows] == expected.values.tolist(), (case.code, number)
    deventer = {t["caption"].split(" ", 2)[1]: t["rows"] for t in visits["GM0150"]["tables"]
                if t["caption"].startswith("Tabel ")}
    assert deventer["2"][0] == ["DEVENTER", "2", "3", "€ 10.143", "€ 240", "108"]


def test_provenance_legend_is_visible_and_generated_cells_look_different(rendered, visits):
    for case in rendered.cases:
        visit = visits[case.code]
        legends = [l for l in visit["legends"] if "grijs en cursief" in l["text"]]
        assert len(legends) >= 2 and all(l["visible"] for l in legends), case.code
        assert visit["generatedStyle"] == ["italic"] and visit["cbsStyle"] == ["normal"], case.code


def test_links_resolve(rendered, visits):
    index_links = [l["href"] for l in visits["index"]["links"]]
    for case in rendered.cases:
        assert (rendered.reports_dir / f"{case.code}.html").resolve().as_uri() in index_links
    assert visits["followed"].endswith(f"/{rendered.cases[0].code}.html")
    for name, visit in visits.items():
        if not isinstance(visit, dict):
            continue
        for link in visit["links"]:
            url = urlparse(link["href"])
            assert url.scheme == "file", (name, link)
            assert Path(unquote(url.path)).exists(), (name, link)


def test_reports_are_readable(rendered, visits):
    index = visits["index"]
    assert index["lang"] == "nl" and index["h1"]
    for case in rendered.cases:
        visit = visits[case.code]
        assert visit["lang"] == "nl"
        assert any(h.startswith("Casus ") for h in visit["h1"]), visit["h1"]
        assert visit["summary"] and visit["provenance"]
        assert any("Hoe is dit berekend" in h for h in visit["h2"])
        captions = [t["caption"] for t in visit["tables"] if t["caption"]]
        assert {f"Tabel {case.table_lasten}", f"Tabel {case.table_gebruik}"} <= {" ".join(c.split()[:2])
                                                                                  for c in captions}
        assert visit["numAlign"] and set(visit["numAlign"]) == {"right"}
    assert all((SCREENSHOTS / f"{name}.png").stat().st_size > 10_000 for name in ["index"] + [
        c.code for c in rendered.cases])


def test_the_release_diff_page_shows_revised_values_offline(rendered, tmp_path):
    """reports/wijzigingen.html (python -m pipeline diff) for a release that revises one income value."""
    import json
    import shutil

    from pipeline.config import ROOT
    from pipeline.diff import run_diff
    from pipeline.data.manifest import build_manifest, write_manifest

    new = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw", new)
    table = new / "84866NED"
    rows = json.loads((table / "TypedDataSet.json").read_text(encoding="utf-8"))
    row = next(r for r in rows if r["Regio"].strip() == "GM0150" and r["Perioden"].startswith("2019")
               and r["MediaanGestandaardiseerdInkomen_4"] is not None)
    row["MediaanGestandaardiseerdInkomen_4"] = round(row["MediaanGestandaardiseerdInkomen_4"] + 0.4, 1)
    (table / "TypedDataSet.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    manifest = json.loads((table / "manifest.json").read_text(encoding="utf-8"))
    sealed = build_manifest(table, table_id=manifest["table_id"], catalog=manifest["catalog"])
    write_manifest(table, {**manifest, "files": sealed["files"], "modified": "2022-01-01T02:00:00"})
    diff, page_path = run_diff(rendered, str(ROOT / "data" / "raw"), str(new), cases=False)
    assert diff.changed and page_path == rendered.reports_dir / "wijzigingen.html"
    with offline_browser() as (context, blocked):
        page = context.new_page()
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        text = page.inner_text("body")
        lang = page.evaluate("document.documentElement.lang")
        page.screenshot(path=str(SCREENSHOTS / "wijzigingen.png"), full_page=True)
        page.close()
    assert list(blocked) == [] and lang == "nl"
    assert "84866NED" in text and "GM0150" in text and "MediaanGestandaardiseerdInkomen_4" in text
