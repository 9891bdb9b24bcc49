"""The one Jinja2 environment of the report pages; the templates are in ``pipeline/report/templates/``.

Every page (the shell around nbconvert's bodies, index, chapter, overview, validation fragments, the
release diff) is a template here, so markup lives in markup files and Python passes data. The
environment escapes every ``{{ value }}`` (autoescape), fails on a name the caller did not pass
(StrictUndefined) and keeps a template's last newline, so the pages stay byte for byte what they were.
"""

from __future__ import annotations

import html
import math
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline.case.provenance import demo_banner_html

TEMPLATES = Path(__file__).resolve().parent / "templates"


def escaped(value) -> Markup:
    """A value as the pages have always escaped it: :func:`html.escape` (``&quot;``, ``&#x27;``), not
    markupsafe's ``&#34;``/``&#39;``, so autoescaping changes no byte. Markup passes as it is."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return Markup(html.escape(str(value)))


def commas(items) -> str:
    """Items joined by ", " as text, escaped as one value (Jinja's ``join`` escapes the markupsafe way)."""
    return ", ".join(str(item) for item in items)


def blank(value):
    """``value``, or "" when there is none (None, NaN): an empty cell."""
    return "" if value is None or isinstance(value, float) and math.isnan(value) else value


def ident(value) -> Markup:
    """A column name or claim id, escaped, with break opportunities after ``_``, ``-`` and ``/``."""
    text = str(escaped(blank(value)))
    return Markup(text.replace("_", "_<wbr>").replace("-", "-<wbr>").replace("/", "/<wbr>"))


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, for which a cache is never a reason to fail: an entry that
    cannot be read (truncated, garbled, unreadable) is a miss, compiled again and rewritten, and an entry
    that cannot be written is left unwritten."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - whatever the entry holds, the template is compiled as without a cache
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full or read-only folder: the next run compiles the template again
            pass


@lru_cache(maxsize=None)
def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, for these pages and nbconvert's alike: Jinja's cache in the
    user's own folder under the temporary directory, an entry per template file keyed by its source's
    checksum, so a template is compiled again only when its source changed. Compiling them all is ~0.25 s
    of every run's preload. None (compile every run) when there is no such folder to be had."""
    try:
        return TemplateCache()
    except (OSError, RuntimeError):  # e.g. a read-only temporary directory, or one another user owns
        return None


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The environment, built once per process (the runner builds it before it forks its children)."""
    from pipeline.case import formatting  # imports pandas: only a process that renders a page pays for it

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, finalize=escaped,
                             bytecode_cache=bytecode_cache())
    env.filters.update(euro=formatting.euro, percent=formatting.percent, whole=formatting.whole,
                       decimal=formatting.decimal, points=formatting.points, value=formatting.plain,
                       computed=formatting.computed, commas=commas, blank=blank, ident=ident)
    # the banner comes from the one place the notebook takes it from too
    env.globals["demo_banner"] = Markup(demo_banner_html())
    return env


def render(template: str, /, **context) -> str:
    """Template ``template`` (a file name in ``templates/``) filled with ``context``."""
    return environment().get_template(template).render(**context)


def markup(text: str) -> Markup:
    """HTML made elsewhere (nbconvert's body, a table of the formatting module), inserted as it is."""
    return Markup(text)


def template_module(name: str):
    """The macros of template ``name`` (``notices.html``: ``failure``, ``stale``), callable from Python."""
    return environment().get_template(name).module


def warm() -> None:
    """Compile every template once, before the runner forks: the children inherit them compiled."""
    env = environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
