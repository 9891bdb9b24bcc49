"""The page templates (pipeline/report/templates/) and their one environment: escaping as the pages always
escaped, no silent blanks, the Dutch number filters of the formatting module, and every template compiles."""

import html

import jinja2
import pytest
from markupsafe import Markup

from pipeline.case import formatting
from pipeline.case.provenance import demo_banner_html
from pipeline.report import templates
from pipeline.report.render import page


def render_string(source: str, **context) -> str:
    return templates.environment().from_string(source).render(**context)


def test_values_are_escaped_as_html_escape_does():
    text = "'s-Gravenhage & \"Rotterdam\" <b>"
    assert render_string("{{ x }}", x=text) == html.escape(text)        # &#x27; and &quot;, not &#39; / &#34;
    assert render_string("{{ x }}", x=Markup("<b>kept</b>")) == "<b>kept</b>"
    assert render_string("{{ xs|commas }}", xs=["a'b", "c"]) == html.escape("a'b, c")


def test_an_unknown_name_is_an_error_not_an_empty_string():
    with pytest.raises(jinja2.UndefinedError):
        render_string("{{ missing }}")


def test_the_number_filters_are_the_formatting_module():
    assert render_string("{{ v|euro }} {{ v|whole }} {{ p|percent }} {{ p|decimal(2) }}", v=10143.5, p=8.05) == \
        "€ 10.144 10.144 8,1% 8,05"
    assert render_string("{{ v|value }}|{{ n|value }}|{{ c|computed }}|{{ d|points }}", v=4470.5, n=None, c=1234.50,
                         d=0.44) == "4.470,5|–|1.234,5|+0,4"
    assert formatting.trimmed(26.5, 4) == "26,5" and formatting.trimmed(1000.0, 4) == "1.000"
    assert formatting.plain(12345) == "12.345" and formatting.plain(True) == "True"


def test_the_banner_comes_from_provenance_and_shows_once():
    shown = page("t", "<p>x</p>", generated=True, stamp="s")
    assert shown.count(demo_banner_html()) == 1
    assert demo_banner_html() not in page("t", "<p>x</p>", generated=False, stamp="s")
    # a case notebook shows the banner itself
    assert page("t", demo_banner_html(), generated=True, stamp="s").count('class="banner"') == 1


def test_the_shell_is_the_pages_markup():
    assert page("T & 'x'", "<p>body</p>", generated=False, stamp="2026", notice="<p>n</p>\n") == (
        "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>T &amp; &#x27;x&#x27;</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n"
        "<body>\n<nav><a href=\"index.html\">← Overzicht hoofdstuk 6</a></nav>\n\n<main>\n<p>n</p>\n<p>body</p>\n"
        "</main>\n<p class=\"stamp\">Gegenereerd 2026</p>\n</body>\n</html>\n")


def test_every_template_compiles():
    names = templates.environment().list_templates(extensions=["html"])
    assert {"page.html", "index.html", "notices.html", "chapter.html", "overview.html", "validation.html",
            "diff.html"} <= set(names)
    templates.warm()


def test_compiled_templates_are_kept_for_the_next_run(tmp_path):
    """The pages' templates and nbconvert's are compiled once and loaded compiled by the next process (Jinja's
    bytecode cache in the user's folder under TMPDIR): each run's preload does not compile them again."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    warm = [sys.executable, "-c", "from pipeline.report.render import warm_up; warm_up()"]
    subprocess.run(warm, env=env, check=True, capture_output=True)
    (cache,) = tmp_path.glob("_jinja2-cache-*")
    first = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    ours = len(templates.environment().list_templates(extensions=["html"]))
    assert len(first) > ours                                             # ours and nbconvert's
    subprocess.run(warm, env=env, check=True, capture_output=True)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == first   # loaded, not compiled again


def test_a_garbled_template_cache_is_compiled_again_not_an_error(tmp_path):
    """A cache entry that was cut short or overwritten (a full disk, a crash, a hand) is a miss: the pages
    render, and the entry is written anew."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    warm = [sys.executable, "-c", "from pipeline.report.render import warm_up; warm_up()"]
    subprocess.run(warm, env=env, check=True, capture_output=True)
    (cache,) = tmp_path.glob("_jinja2-cache-*")
    entries = sorted(cache.iterdir())
    good = entries[0].read_bytes()
    entries[0].write_bytes(good[:20])                                   # cut short
    for entry in entries[1:]:
        entry.write_bytes(b"garbage")
    done = subprocess.run(warm, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert entries[0].read_bytes() == good                              # written anew, as it was
