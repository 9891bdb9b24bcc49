"""Execute the case notebook once per case with papermill.

Executed notebooks land in ``reports/notebooks/<code>.ipynb`` (papermill writes its parameters
cell and metadata there). A case that fails does not stop the others; the failed notebook is kept,
with papermill's error cell, and a summary names each failure. The kernel runs this environment's
Python, registered once as its own kernelspec so no other Jupyter installation can be picked up.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import papermill as pm

from .config import ROOT, StudyConfig
from .errors import ExecutionError, UnknownMunicipalityError

NOTEBOOK = ROOT / "notebooks" / "hoofdstuk6_casus.ipynb"
KERNEL_NAME = "jeugdzorg-h6"


@dataclass
class RunResult:
    code: str
    output: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def ensure_kernel() -> str:
    """Register this interpreter as a kernelspec inside its own prefix (idempotent)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (jeugdzorg hoofdstuk 6)", prefix=sys.prefix)
    return KERNEL_NAME


def select_cases(config: StudyConfig, wanted: list[str] | None) -> list[str]:
    """Configured case codes, optionally narrowed to ``wanted`` (codes or names, case-insensitive)."""
    codes = [c.code for c in config.cases]
    if not wanted:
        return codes
    from .reference import municipalities

    names = municipalities(config).set_index("code")["naam"]
    chosen = []
    for item in wanted:
        item = str(item).strip()
        match = [c for c in codes if c.lower() == item.lower() or names.get(c, "").lower() == item.lower()]
        if not match:
            listing = ", ".join(f"{c} {names.get(c, '')}" for c in codes)
            raise UnknownMunicipalityError(f"{item!r} is not a configured case (cases: {listing}); "
                                           "add it under cases: in config/study.yml")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def output_path(config: StudyConfig, code: str) -> Path:
    return config.reports_dir / "notebooks" / f"{code}.ipynb"


def run_case(config: StudyConfig, code: str, kernel: str) -> RunResult:
    output = output_path(config, code)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        pm.execute_notebook(str(NOTEBOOK), str(output), kernel_name=kernel, progress_bar=False, cwd=str(ROOT),
                            parameters={"case": code, "config_path": str(config.path),
                                        "output_dir": str(config.reports_dir / "cases" / code)},
                            # the kernel's own start-up warnings (TCP transport on loopback) are noise here
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
        return RunResult(code, output, time.perf_counter() - started)
    except pm.PapermillExecutionError as exc:
        return RunResult(code, output, time.perf_counter() - started,
                         error=f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}")


def run_cases(config: StudyConfig, wanted: list[str] | None = None) -> list[RunResult]:
    codes = select_cases(config, wanted)
    kernel = ensure_kernel()
    results = []
    for i, code in enumerate(codes, start=1):
        print(f"[{i}/{len(codes)}] {code} ...", end=" ", file=sys.stderr, flush=True)
        result = run_case(config, code, kernel)
        print(f"{'ok' if result.ok else 'FAILED'} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)
        results.append(result)
    failed = [r for r in results if not r.ok]
    if failed:
        details = "; ".join(f"{r.code} ({r.error}, notebook kept at {r.output})" for r in failed)
        raise ExecutionError(f"{len(failed)} of {len(results)} cases failed: {details}")
    return results
