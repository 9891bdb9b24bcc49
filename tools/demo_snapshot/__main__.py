"""python -m tools.demo_snapshot: regenerate data/raw/ (deterministic)."""

from __future__ import annotations

import sys

import numpy as np


def main() -> None:
    from . import income, iv3, jeugdzorg, population
    from .constants import SEED
    rng = np.random.default_rng(SEED)
    pops = population.write(np.random.default_rng([SEED, 1]))
    income.write_gebieden()
    incl = income.write_income(np.random.default_rng([SEED, 2]))
    income.write_armoede(incl, np.random.default_rng([SEED, 3]))
    total = jeugdzorg.build(np.random.default_rng([SEED, 4]))
    users = total["jong"].xs("2019JJ00", level="per")
    iv3.write(np.random.default_rng([SEED, 5]), pops, users)
    del rng


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # one line, no traceback
        sys.exit(f"demo snapshot failed: {type(exc).__name__}: {exc}")
