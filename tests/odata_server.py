"""A small local CBS OData v3 feed for tests: the URLs, JSON shapes and paging cbsodata expects.

It serves the fixture tables in ``tests/fixtures/odata/<ID>.json`` (one JSON object per table, one
key per entity set) the way ``opendata.cbs.nl/ODataFeed/odata/<ID>/`` does:

* ``/ODataFeed/odata/<ID>/``: the entity-set list (``{"name": ..., "url": ...}``), including both
  ``UntypedDataSet`` and ``TypedDataSet`` because cbsodata removes the one it does not want;
* ``/ODataFeed/odata/<ID>/<EntitySet>``: ``{"odata.metadata": ..., "value": [...]}``; the data sets
  are split into pages of ``page_size`` rows (CBS: 10 000), each page but the last carrying an
  absolute ``odata.nextLink`` with ``$skip`` (as the real feed does), so cbsodata's paging code runs;
  ``$filter`` (``eq``/``ne`` on a column, ``substringof('x', Col)``, ``startswith(Col, 'x')``, joined
  by ``and``/``or`` with parentheses) and ``$select`` are applied as CBS does: against the padded
  keys, exactly (``RegioS eq 'GM0150'`` matches nothing, ``RegioS eq 'GM0150    '`` does);
  ``UntypedDataSet`` is the typed data as strings, ``"."`` where the typed cell is ``null``;
* ``/ODataCatalog/Tables``: the catalog cbsodata's ``get_table_list`` reads (Identifier, Title,
  ShortTitle, Modified, Catalog, ...) for every served table plus the entries of
  ``tests/fixtures/odata/_catalog.json`` (other Iv3 years), with ``$filter`` and ``$select``.

**OData v4** (``datasets.cbs.nl/odata/v1/CBS/<ID>/``, the "datasets API"): the tables of
``tests/fixtures/odata_v4/<ID>/`` (one file per entity set; real CBS values, sliced from a capture)
are served under ``/odata/v1/CBS/<ID>/<EntitySet>``: ``Properties`` (one object), ``Dimensions``,
``MeasureCodes``, ``<Dimension>Codes`` (``{"@odata.context": ..., "value": [...]}``) and
``Observations``, paged per ``page_size`` rows with an absolute ``@odata.nextLink``, with ``$filter``
(the v3 grammar plus ``ge``/``gt``/``le``/``lt`` and ``contains``) and ``$select``.

Every request is logged (:attr:`ODataServer.requests`, :meth:`ODataServer.queries`) so a test can
assert what the client asked for.

Faults are injected per test with :meth:`ODataServer.add_fault` (HTTP 500, a dropped connection,
a page that is not valid JSON, a body shorter than its Content-Length, a slow answer), and the
tables are plain dicts a test may edit (see the helpers at the bottom) to mimic a new release.

Run it by hand to try ``python -m pipeline fetch --catalog-url http://127.0.0.1:PORT``::

    python tests/odata_server.py --port 8765 [--fault 500:TypedDataSet:1:always] [--touch 84134NED]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "odata"
V4_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "odata_v4"
V4_PREFIX = "/odata/v1/CBS"
DATA_SETS = ("TypedDataSet", "UntypedDataSet")
FAULT_KINDS = ("500", "503", "404", "drop", "invalid_json", "short_body", "slow")


CATALOG_PATH = "/ODataCatalog/Tables"
CATALOG_FIELDS = ("ID", "Title", "ShortTitle", "Identifier", "Summary", "Modified", "MetaDataModified",
                  "ReasonDelivery", "ExplanatoryText", "Language", "Catalog", "Frequency", "Period",
                  "ShortDescription", "OutputStatus", "Source")


def load_fixtures(directory: Path = FIXTURES) -> dict[str, dict[str, list]]:
    """All fixture tables, keyed by table id (as CBS spells it), each a dict of entity sets."""
    tables = {}
    for path in sorted(directory.glob("*.json")):
        if not path.name.startswith("_"):
            tables[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return tables


def load_v4_fixtures(directory: Path = V4_FIXTURES) -> dict[str, dict]:
    """All v4 fixture tables, keyed by table id, each a dict of entity set -> payload (Properties: a dict)."""
    tables = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()) if directory.exists() else []:
        tables[folder.name] = {path.stem: json.loads(path.read_text(encoding="utf-8"))
                               for path in sorted(folder.glob("*.json"))}
    return tables


def load_catalog_extra(directory: Path = FIXTURES) -> list[dict]:
    """Catalog entries of tables the server does not serve (``_catalog.json``)."""
    path = directory / "_catalog.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


@dataclass
class Fault:
    """One injected failure: which request it hits and how often."""

    kind: str                   # one of FAULT_KINDS
    entity: str = "TypedDataSet"  # entity set name; "" is the entity-set list
    page: int | None = None     # 0-based page of that entity set; None: every page
    times: int | None = 1       # how many matching requests fail; None: all of them
    table: str | None = None    # table id; None: any table
    delay: float = 1.0          # seconds, for "slow"
    hits: int = 0

    def matches(self, table_id: str, entity: str, page: int) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.table is not None and self.table.lower() != table_id.lower():
            return False
        if self.entity.lower() != entity.lower():
            return False
        return self.page is None or self.page == page


class ODataServer:
    """The feed on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, tables: dict[str, dict[str, list]] | None = None, page_size: int = 10,
                 port: int = 0, v4_tables: dict[str, dict] | None = None):
        self.tables = copy.deepcopy(tables if tables is not None else load_fixtures())
        self.v4_tables = copy.deepcopy(v4_tables if v4_tables is not None else load_v4_fixtures())
        self.catalog_extra = copy.deepcopy(load_catalog_extra()) if tables is None else []
        self.page_size = page_size
        self.faults: list[Fault] = []
        self.requests: list[str] = []  # path + query of every request, in order
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.feed = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """What to pass as ``--catalog-url``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ODataServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="odata-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "ODataServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add_fault(self, kind: str, entity: str = "TypedDataSet", page: int | None = None,
                  times: int | None = 1, table: str | None = None, delay: float = 1.0) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        fault = Fault(kind=kind, entity=entity, page=page, times=times, table=table, delay=delay)
        self.faults.append(fault)
        return fault

    def table(self, table_id: str) -> dict[str, list]:
        """The served table (CBS ids are case-insensitive in URLs)."""
        for key, value in self.tables.items():
            if key.lower() == table_id.lower():
                return value
        raise KeyError(table_id)

    def v4_table(self, table_id: str) -> dict:
        """The served v4 table (ids are case-insensitive in URLs)."""
        for key, value in self.v4_tables.items():
            if key.lower() == table_id.lower():
                return value
        raise KeyError(table_id)

    def v4_queries(self, entity: str, table: str | None = None) -> list[dict[str, str]]:
        """The decoded query parameters of every v4 request for ``entity`` (of ``table``), in order."""
        table_part = re.escape(table) if table else "[^/]+"
        pattern = re.compile(rf"^{V4_PREFIX}/{table_part}/{re.escape(entity)}(\?|$)", re.IGNORECASE)
        return [{k: v[-1] for k, v in parse_qs(urlsplit(r).query, keep_blank_values=True).items()}
                for r in self.requests if pattern.search(r)]

    def requested(self, entity: str, table: str | None = None) -> int:
        """How many requests asked for ``entity`` ("" for the entity-set list), of ``table`` or any table."""
        return len(self.queries(entity, table))

    def queries(self, entity: str, table: str | None = None) -> list[dict[str, str]]:
        """The decoded query parameters of every request for ``entity`` (of ``table``), in order."""
        table_part = re.escape(table) if table else "[^/]+"
        pattern = re.compile(rf"^/ODataFeed/odata/{table_part}/{re.escape(entity)}(\?|$)", re.IGNORECASE)
        return [{k: v[-1] for k, v in parse_qs(urlsplit(r).query, keep_blank_values=True).items()}
                for r in self.requests if pattern.search(r)]

    def catalog(self) -> list[dict]:
        """The ``ODataCatalog/Tables`` entries: one per served table (from its TableInfos) plus the extras."""
        rows = []
        for table_id, table in self.tables.items():
            info = (table.get("TableInfos") or [{}])[0]
            row = {name: info.get(name) for name in CATALOG_FIELDS}
            row["Identifier"] = info.get("Identifier") or table_id
            row["RecordCount"] = len(table.get("TypedDataSet", []))
            row["ColumnCount"] = sum(1 for p in table.get("DataProperties", []) if p.get("Type") != "TopicGroup")
            rows.append(row)
        for extra in self.catalog_extra:
            rows.append({name: extra.get(name) for name in CATALOG_FIELDS} | extra)
        for i, row in enumerate(rows):
            row["ID"] = i
        return rows

    def _take_fault(self, table_id: str, entity: str, page: int) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(table_id, entity, page):
                    fault.hits += 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so "drop" only ever affects the request it targets.
    protocol_version = "HTTP/1.0"
    server_version = "FakeCbsOData/1.0"

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    @property
    def feed(self) -> ODataServer:
        return self.server.feed

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.feed.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.lower() == CATALOG_PATH.lower():
            return self._catalog(query)
        if parts.path.lower().startswith(V4_PREFIX.lower() + "/"):
            return self._v4(parts.path, query)
        match = re.fullmatch(r"/ODataFeed/odata/([^/]+)/([^/]*)", parts.path, re.IGNORECASE)
        if not match:
            return self._send_json(404, {"odata.error": {"message": {"value": "Resource not found"}}})
        table_id, entity = match.group(1), match.group(2)
        skip = int(query.get("$skip", 0) or 0)
        fault = self.feed._take_fault(table_id, entity, skip // self.feed.page_size)
        if fault is not None and self._apply_fault(fault):
            return
        try:
            table = self.feed.table(table_id)
        except KeyError:
            return self._send_json(404, {"odata.error": {"message": {"value": f"Table {table_id} not found"}}})
        base = f"http://{self.headers.get('Host', f'127.0.0.1:{self.feed.port}')}/ODataFeed/odata/{table_id}/"
        if entity == "":
            return self._send_json(200, entity_set_list(table, base))
        if entity in DATA_SETS:
            try:
                page = data_page(table, entity, base, query, skip, self.feed.page_size)
            except ValueError as exc:
                return self._send_json(400, {"odata.error": {"message": {"value": str(exc)}}})
            return self._send_json(200, page)
        if entity not in table:
            return self._send_json(404, {"odata.error": {"message": {"value": f"No entity set {entity}"}}})
        return self._send_json(200, {"odata.metadata": f"{base}$metadata#Cbs.OData.WebAPI.{entity}",
                                     "value": table[entity]})

    def _v4(self, path: str, query: dict) -> None:
        """One request of the v4 datasets API: ``/odata/v1/CBS/<ID>/<EntitySet>``."""
        match = re.fullmatch(rf"{V4_PREFIX}/([^/]+)/?([^/]*)", path, re.IGNORECASE)
        if not match:
            return self._send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
        table_id, entity = match.group(1), match.group(2)
        skip = int(query.get("$skip", 0) or 0)
        fault = self.feed._take_fault(table_id, entity, skip // self.feed.page_size)
        if fault is not None and self._apply_fault(fault):
            return
        try:
            table = self.feed.v4_table(table_id)
        except KeyError:
            return self._send_json(404, {"error": {"code": "404", "message": f"Dataset {table_id} not found"}})
        base = f"http://{self.headers.get('Host', f'127.0.0.1:{self.feed.port}')}{V4_PREFIX}/{table_id}/"
        if entity == "":
            names = ["Properties", "Dimensions", "MeasureCodes", "Observations"] + \
                [n for n in table if n not in ("Properties", "Dimensions", "MeasureCodes", "Observations")]
            return self._send_json(200, {"@odata.context": f"{base}$metadata",
                                         "value": [{"name": n, "kind": "EntitySet", "url": n} for n in names]})
        if entity == "Observations":
            try:
                page = v4_observation_page(table, base, query, skip, self.feed.page_size)
            except ValueError as exc:
                return self._send_json(400, {"error": {"code": "400", "message": str(exc)}})
            return self._send_json(200, page)
        if entity not in table:
            return self._send_json(404, {"error": {"code": "404", "message": f"No entity set {entity}"}})
        payload = table[entity]
        if isinstance(payload, dict):
            return self._send_json(200, {"@odata.context": f"{base}$metadata#{entity}", **payload})
        return self._send_json(200, {"@odata.context": f"{base}$metadata#{entity}", "value": payload})

    def _catalog(self, query: dict) -> None:
        fault = self.feed._take_fault("ODataCatalog", "Tables", 0)
        if fault is not None and self._apply_fault(fault):
            return
        try:
            rows = _filtered(self.feed.catalog(), query.get("$filter"))
        except ValueError as exc:
            return self._send_json(400, {"odata.error": {"message": {"value": str(exc)}}})
        rows = _selected(rows, query.get("$select"))
        base = f"http://{self.headers.get('Host', f'127.0.0.1:{self.feed.port}')}/ODataCatalog/"
        return self._send_json(200, {"odata.metadata": f"{base}$metadata#Tables", "value": rows})

    def _apply_fault(self, fault: Fault) -> bool:
        """Act out ``fault``; False when the normal answer should still follow (a slow one)."""
        if fault.kind in ("500", "503", "404"):
            self._send_json(int(fault.kind), {"odata.error": {"message": {"value": "Injected failure"}}})
        elif fault.kind == "drop":
            # Close the socket without a status line, as the CBS feed did in cbsodata issue #22.
            self.close_connection = True
        elif fault.kind == "invalid_json":
            self._send_raw(200, b'{"odata.metadata": "x", "value": [{"ID": 0, "RegioS": "GM01')
        elif fault.kind == "short_body":
            body = b'{"odata.metadata": "x", "value": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body) + 500))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        elif fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        return True

    def _send_json(self, status: int, payload) -> None:
        self._send_raw(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _send_raw(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer


def entity_set_list(table: dict[str, list], base: str) -> dict:
    """The service document: every entity set, with the untyped data set next to the typed one."""
    names = ["TableInfos", "UntypedDataSet", "TypedDataSet"]
    names += [n for n in table if n not in names]
    return {"odata.metadata": f"{base}$metadata",
            "value": [{"name": n, "url": f"{base}{n}"} for n in names]}


def data_page(table: dict[str, list], entity: str, base: str, query: dict, skip: int, page_size: int) -> dict:
    rows = _filtered(table["TypedDataSet"], query.get("$filter"))
    if entity == "UntypedDataSet":
        # CBS's untyped data: every value a string, "." where the typed data has null (suppressed)
        rows = [{k: (v if k == "ID" else "." if v is None else str(v)) for k, v in r.items()} for r in rows]
    rows = _selected(rows, query.get("$select"))
    page = {"odata.metadata": f"{base}$metadata#Cbs.OData.WebAPI.{entity}", "value": rows[skip:skip + page_size]}
    if skip + page_size < len(rows):
        # Like the real feed: an absolute link that repeats $format, $filter and $select.
        params = {"$format": "json"}
        for name in ("$filter", "$select"):
            if query.get(name):
                params[name] = query[name]
        params["$skip"] = str(skip + page_size)
        page["odata.nextLink"] = f"{base}{entity}?" + "&".join(f"{k}={quote(v, safe='$,')}"
                                                               for k, v in params.items())
    return page


def v4_observation_page(table: dict, base: str, query: dict, skip: int, page_size: int) -> dict:
    """One page of v4 ``Observations``: filtered, selected, with an absolute ``@odata.nextLink``."""
    rows = _selected(_filtered(table["Observations"], query.get("$filter")), query.get("$select"))
    page = {"@odata.context": f"{base}$metadata#Observations", "value": rows[skip:skip + page_size]}
    if skip + page_size < len(rows):
        params = {k: query[k] for k in ("$filter", "$select") if query.get(k)}
        params["$skip"] = str(skip + page_size)
        page["@odata.nextLink"] = f"{base}Observations?" + "&".join(f"{k}={quote(v, safe='$,')}"
                                                                     for k, v in params.items())
    return page


def _selected(rows: list[dict], select: str | None) -> list[dict]:
    if not select:
        return rows
    columns = [c.strip() for c in select.split(",") if c.strip()]
    if rows:
        unknown = [c for c in columns if c not in rows[0]]
        if unknown:
            raise ValueError(f"$select names unknown properties: {', '.join(unknown)}")
    return [{k: r[k] for k in columns if k in r} for r in rows]


# --- $filter: a small OData v3 expression parser --------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][\w.]*)|(?P<sym>[(),]))")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"$filter not understood at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        tokens.append((kind, value))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    """or_expr := and_expr ('or' and_expr)*; and_expr := atom ('and' atom)*;
    atom := '(' or_expr ')' | substringof('x', Col) | startswith(Col, 'x') | Col (eq|ne) literal."""

    def __init__(self, text: str):
        self.tokens, self.i, self.text = _tokens(text), 0, text

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value: str | None = None):
        token = self.peek()
        if token[0] is None or (value is not None and token[1].lower() != value):
            raise ValueError(f"$filter {self.text!r}: expected {value or 'more'} at token {self.i}")
        self.i += 1
        return token

    def parse(self):
        tree = self.or_expr()
        if self.i != len(self.tokens):
            raise ValueError(f"$filter {self.text!r}: unexpected {self.peek()[1]!r}")
        return tree

    def or_expr(self):
        terms = [self.and_expr()]
        while self.peek()[1] and self.peek()[1].lower() == "or":
            self.take()
            terms.append(self.and_expr())
        return ("or", terms)

    def and_expr(self):
        terms = [self.atom()]
        while self.peek()[1] and self.peek()[1].lower() == "and":
            self.take()
            terms.append(self.atom())
        return ("and", terms)

    def atom(self):
        kind, value = self.take()
        if value == "(":
            tree = self.or_expr()
            self.take(")")
            return tree
        if kind != "word":
            raise ValueError(f"$filter {self.text!r}: unexpected {value!r}")
        if value.lower() in ("substringof", "startswith", "endswith", "contains"):
            self.take("(")
            first = self.take()
            self.take(",")
            second = self.take()
            self.take(")")
            if value.lower() == "substringof":  # substringof('needle', Column)
                return ("substringof", second[1], first[1])
            return (value.lower(), first[1], second[1])  # startswith(Column, 'prefix')
        op = self.take()[1].lower()
        if op not in ("eq", "ne", "ge", "gt", "le", "lt"):
            raise ValueError(f"$filter {self.text!r}: operator {op!r} not supported by the test server")
        literal_kind, literal = self.take()
        return (op, value, literal if literal_kind == "str" else float(literal))


def _holds(row: dict, tree) -> bool:
    op = tree[0]
    if op == "or":
        return any(_holds(row, t) for t in tree[1])
    if op == "and":
        return all(_holds(row, t) for t in tree[1])
    column, operand = tree[1], tree[2]
    if column not in row:
        raise ValueError(f"$filter names unknown property {column!r}")
    value = row[column]
    if op in ("eq", "ne"):
        same = (str(value) == operand) if isinstance(operand, str) else (value == operand)
        return same if op == "eq" else not same
    if op in ("ge", "gt", "le", "lt"):
        left = str(value) if isinstance(operand, str) else value
        if left is None:
            return False
        return {"ge": left >= operand, "gt": left > operand, "le": left <= operand, "lt": left < operand}[op]
    text = "" if value is None else str(value)
    if op in ("substringof", "contains"):
        return operand in text
    if op == "startswith":
        return text.startswith(operand)
    return text.endswith(operand)


def _filtered(rows: list[dict], expression: str | None) -> list[dict]:
    """Rows for which the OData ``$filter`` expression holds (a ValueError for what it cannot parse)."""
    if not expression:
        return rows
    tree = _Parser(expression).parse()
    return [r for r in rows if _holds(r, tree)]


# --- Helpers a test uses to turn a fixture into "the next CBS release" ---------------------------

def set_info(table: dict[str, list], **fields) -> None:
    """Change TableInfos fields, e.g. ``Modified`` or ``OutputStatus``."""
    table["TableInfos"][0].update(fields)


def renumber_measure(table: dict[str, list], old: str, new: str) -> None:
    """A new release renumbers a measure key (``..._3`` -> ``..._4``); its title stays."""
    for prop in table["DataProperties"]:
        if prop["Key"] == old:
            prop["Key"] = new
    for row in table["TypedDataSet"]:
        row[new] = row.pop(old)


def rekey_category(table: dict[str, list], dimension: str, old: str, new: str) -> None:
    """A new release gives a category another key (padded to the old width); its title stays."""
    width = max(len(c["Key"]) for c in table[dimension])
    for category in table[dimension]:
        if category["Key"].strip() == old:
            padded_old, category["Key"] = category["Key"], new.ljust(width)
    for row in table["TypedDataSet"]:
        if row[dimension] == padded_old:
            row[dimension] = new.ljust(width)


def drop_measure(table: dict[str, list], key: str) -> None:
    table["DataProperties"] = [p for p in table["DataProperties"] if p["Key"] != key]
    for row in table["TypedDataSet"]:
        row.pop(key, None)


def add_period(table: dict[str, list], key: str, title: str, status: str = "Voorlopig") -> None:
    """Append a period: one new row per region, copied from the latest period with values +1."""
    periods = table["Perioden"]
    latest = periods[-1]["Key"]
    periods.append({"Key": key, "Title": title, "Description": None, "Status": status})
    rows = table["TypedDataSet"]
    new_rows = []
    for row in rows:
        if row["Perioden"] == latest:
            copy_ = {k: (v + 1 if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                     for k, v in row.items()}
            copy_["Perioden"] = key
            new_rows.append(copy_)
    for i, row in enumerate(rows + new_rows):
        row["ID"] = i
    table["TypedDataSet"] = rows + new_rows


def set_period_status(table: dict[str, list], key: str, status: str) -> None:
    """A release turns a provisional period final (``Voorlopig`` -> ``Definitief``) or back."""
    for period in table["Perioden"]:
        if period["Key"].strip() == key:
            period["Status"] = status


def revise_value(table: dict[str, list], measure: str, value, **where: str) -> None:
    """A release revises one cell: the row whose stripped dimension keys equal ``where``."""
    hits = [r for r in table["TypedDataSet"] if all(str(r[d]).strip() == k for d, k in where.items())]
    if len(hits) != 1:
        raise KeyError(f"{len(hits)} rows match {where}")
    hits[0][measure] = value


def successor_table(table: dict[str, list], new_id: str, half_year_title: str = "{half}e half jaar {year}") -> dict:
    """The same table under a new id (84134NED -> 85099NED) with the successor's period titles."""
    import re as _re

    successor = copy.deepcopy(table)
    successor["TableInfos"][0].update(Identifier=new_id, Title=table["TableInfos"][0]["Title"] + " (vanaf 2021)")
    for period in successor["Perioden"]:
        match = _re.fullmatch(r"(\d{4})HJ0([12])", period["Key"].strip())
        if match:
            period["Title"] = half_year_title.format(year=match[1], half=match[2])
    return successor


def _parse_fault(text: str) -> dict:
    """``KIND[:ENTITY[:PAGE[:TIMES]]]`` with PAGE/TIMES a number or ``all``/``always``."""
    parts = text.split(":")
    kind = parts[0]
    entity = parts[1] if len(parts) > 1 else "TypedDataSet"
    page = parts[2] if len(parts) > 2 else "all"
    times = parts[3] if len(parts) > 3 else "always"
    return {"kind": kind, "entity": entity,
            "page": None if page in ("all", "*") else int(page),
            "times": None if times in ("always", "all") else int(times)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve tests/fixtures/odata as a local CBS OData v3 feed.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[:ENTITY[:PAGE[:TIMES]]]",
                        help=f"inject a failure; KIND is one of {', '.join(FAULT_KINDS)}, "
                             "e.g. 500:TypedDataSet:1:always")
    parser.add_argument("--touch", action="append", default=[], metavar="ID",
                        help="pretend table ID has a new release (Modified = now), so fetch downloads it")
    args = parser.parse_args(argv)
    server = ODataServer(page_size=args.page_size, port=args.port)
    for text in args.fault:
        server.add_fault(**_parse_fault(text))
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    for table_id in args.touch:
        set_info(server.table(table_id), Modified=now, MetaDataModified=now)
    print(f"serving {', '.join(server.tables)} at {server.url}/ODataFeed/odata/<ID>/ (v3) and "
          f"{', '.join(server.v4_tables)} at {server.url}{V4_PREFIX}/<ID>/ (v4) (Ctrl-C stops)", flush=True)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
