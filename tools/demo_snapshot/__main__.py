"""python -m tools.demo_snapshot [--out DIR]: regenerate the demo snapshot (default data/raw/, deterministic)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .constants import RAW, SEED


def main(out: Path) -> None:
    from . import income, iv3, jeugdzorg, population
    out.mkdir(parents=True, exist_ok=True)
    pops = population.write(out, np.random.default_rng([SEED, 1]))
    income.write_gebieden(out)
    incl = income.write_income(out, np.random.default_rng([SEED, 2]))
    income.write_armoede(out, incl, np.random.default_rng([SEED, 3]))
    total = jeugdzorg.build(out, np.random.default_rng([SEED, 4]), pops[2020])
    iv3.write(out, np.random.default_rng([SEED, 5]), pops, total["jong"].xs("2019JJ00", level="per"),
              total["jong"].xs("2017JJ00", level="per"))


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo_snapshot", description=__doc__)
    parser.add_argument("--out", type=Path, default=RAW, help=f"output directory (default {RAW})")
    args = parser.parse_args(argv)
    try:
        main(args.out)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return 0
        print(f"demo snapshot failed: {exc.code}" if not isinstance(exc.code, int) else "demo snapshot failed",
              file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # one line, no traceback
        print(f"demo snapshot failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
