"""Every calibration target of the generated values, in one place.

Targets come from chapter 6's printed tables (data/external/published/, parsed with pipeline.published).
To add a target (e.g. from the chapter's prose), add it to the dicts returned here; the table generators
only read ``targets()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.published import published_gebruik, published_lasten, targets_by_code

from .constants import PUBLISHED


@dataclass
class Targets:
    pct_zonder_2020hj1: dict[str, float]      # JH 121 relative, 2020HJ01: GM, NL01, JZ codes
    ses_deciel: dict[str, int]                # GM code -> printed SES decile (excl. studenten, 2019)
    armoede_deciel: dict[str, int]            # GM code -> printed armoede decile (2019)
    lasten_per_gebruiker_2019: dict[str, float]   # GM and NL01, euro
    lasten_per_inwoner_2019: dict[str, float]     # GM and size:<label>; NL01 is a check, not a target
    index_lasten_per_inwoner: dict[str, float]    # GM, NL01, size:<label>
    extra: dict[str, dict] = field(default_factory=dict)   # later targets (prose), by name


@lru_cache(maxsize=None)
def targets() -> Targets:
    gebruik = published_gebruik(PUBLISHED)
    lasten = published_lasten(PUBLISHED)
    ses = {**targets_by_code(lasten, "ses_deciel"), **targets_by_code(gebruik, "ses_deciel")}
    arm = {**targets_by_code(lasten, "armoede_deciel"), **targets_by_code(gebruik, "armoede_deciel")}
    per_inwoner = targets_by_code(lasten, "lasten_per_inwoner_2019")
    return Targets(
        pct_zonder_2020hj1=targets_by_code(gebruik, "pct_zonder_verblijf_2020hj1"),
        ses_deciel={c: int(v) for c, v in ses.items() if c.startswith("GM")},
        armoede_deciel={c: int(v) for c, v in arm.items() if c.startswith("GM")},
        lasten_per_gebruiker_2019=targets_by_code(lasten, "lasten_per_gebruiker_2019"),
        lasten_per_inwoner_2019={c: v for c, v in per_inwoner.items() if c != "NL01"},
        index_lasten_per_inwoner=targets_by_code(lasten, "index_lasten_per_inwoner"),
    )
