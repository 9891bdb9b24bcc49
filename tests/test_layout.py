"""The package's layout is its architecture: one subpackage per stage, imports only down the data flow.

config -> data (fetch, raw snapshot) -> processed (the contract) <- build -> case -> check -> run -> report,
with the entry points on top (diff, workflow, cli), which wire the stages together. Every import counts, also one inside a function: a
lazy import is still a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

# lower rank first; a module may import only from a lower rank or from its own stage
RANKS = {
    "pipeline": 0,  # the foundation: __init__, config, errors, iorw
    "pipeline.data": 1,
    "pipeline.processed": 2,
    "pipeline.build": 3,
    "pipeline.case": 4,
    "pipeline.check": 5,
    "pipeline.run": 6,
    "pipeline.report": 7,
    # the entry points, which wire the stages together: the release diff, the workflow, the command line
    "pipeline.diff": 8, "pipeline.workflow": 9, "pipeline.cli": 10, "pipeline.__main__": 11,
}
# what the stages after build may take from pipeline.data: the curated printed values, never the raw snapshot
AFTER_BUILD_FROM_DATA = {"pipeline.data.published"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> str:
    """The stage a module belongs to: its subpackage, or the top-level module itself."""
    parts = module.split(".")
    candidate = ".".join(parts[:2])
    return candidate if candidate in RANKS else "pipeline"


def imports(module: str) -> set[str]:
    """Every pipeline module ``module`` imports, at module level or inside a function."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pipeline.case import maps` imports the module pipeline.case.maps
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def backward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a later stage, or of another stage of the same rank."""
    return [f"{m} -> {n}" for m, targets in graph.items() for n in sorted(targets)
            if RANKS[stage(n)] > RANKS[stage(m)] or RANKS[stage(n)] == RANKS[stage(m)] and stage(n) != stage(m)]


def raw_readers(graph: dict[str, set[str]]) -> list[str]:
    """Modules of the stages between build and the entry points (which fetch and diff snapshots) that
    import the raw-data stage."""
    return [f"{m} -> {n}" for m, targets in graph.items() for n in sorted(targets)
            if RANKS["pipeline.build"] < RANKS[stage(m)] < RANKS["pipeline.diff"]
            and stage(n) == "pipeline.data" and n not in AFTER_BUILD_FROM_DATA]


def circles(graph: dict[str, set[str]]) -> list[str]:
    """Every import circle, found by depth-first search: an edge back to a module still open."""
    found, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                found.append(" -> ".join(trail[trail.index(target):] + [module, target]))
            elif target not in state:
                visit(target, trail + [module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_every_module_has_a_stage():
    assert {stage(m) for m in MODULES} >= {"pipeline.data", "pipeline.build", "pipeline.case", "pipeline.check",
                                          "pipeline.run", "pipeline.report", "pipeline.processed"}
    assert all(stage(m) in RANKS for m in MODULES)


def test_imports_point_down_the_data_flow():
    assert backward_imports(GRAPH) == []


def test_nothing_after_build_reads_the_raw_snapshot():
    assert raw_readers(GRAPH) == []


def test_there_is_no_import_circle():
    assert circles(GRAPH) == []


def test_the_checks_catch_a_bad_import():
    """A case module importing the raw snapshot, a build module importing a report, and a circle."""
    graph = {**GRAPH, "pipeline.case.tables": GRAPH["pipeline.case.tables"] | {"pipeline.data.snapshot"},
             "pipeline.build.indicators": GRAPH["pipeline.build.indicators"] | {"pipeline.report.render"}}
    assert raw_readers(graph) == ["pipeline.case.tables -> pipeline.data.snapshot"]
    assert "pipeline.build.indicators -> pipeline.report.render" in backward_imports(graph)
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]


def test_imports_inside_functions_are_seen():
    """pipeline.cli imports the stages inside its commands (a no-op run stays fast); they still count."""
    assert {"pipeline.workflow", "pipeline.report.exports"} <= GRAPH["pipeline.cli"]
    assert "pipeline.build.processed_data" in GRAPH["pipeline.workflow"]


def test_deciding_what_to_run_imports_no_pandas_matplotlib_or_papermill():
    """A command first checks the raw snapshot and the locks (``run``, ``report``, ``all`` with nothing to do stop
    there): that must not pay for the imports the steps need (about 1.5 s of the 2 s such a run took)."""
    import subprocess
    import sys

    check = ("import sys\n"
             "from pipeline.cli import build_parser\n"
             "from pipeline.config import load_config\n"
             "from pipeline.run.cache import chapter_lock, index_lock\n"
             "from pipeline.workflow import VALIDATION_NOTEBOOK, require_current_build\n"
             "config = load_config()\n"
             "require_current_build(config)\n"
             "chapter_lock(config, VALIDATION_NOTEBOOK).stale_reason()\n"
             "index_lock(config, [case.code for case in config.cases]).stale_reason()\n"
             "print(sorted(m for m in ('pandas', 'numpy', 'matplotlib', 'papermill', 'nbconvert') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
