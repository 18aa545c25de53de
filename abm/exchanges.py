"""The five exchange kinds (DESIGN.md §5) and the per-year exchange ledger.

=============  ==========================================  ======================================
kind           from → to                                   carries
=============  ==========================================  ======================================
incentive      government → farmer                         per-ha subsidy or result-based payment
regulation     government → farmer                         mandate/ban inspection, penalty (EUR)
advice         NGO / scientist → farmer                    knowledge gain (count of farms advised)
market_access  business → farmer                           premium contract or credit purchase
verification   scientist → government / business / farmer  measured SOC change (t CO2e), MRV cost
=============  ==========================================  ======================================

The ledger aggregates every exchange per year and kind: ``count`` (exchanges), ``amount``
(EUR that changed hands; penalties count as paid by farmers) and ``tco2e`` (carbon carried).
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

KINDS = ("incentive", "regulation", "advice", "market_access", "verification")
"""Exchange kinds (contract)."""


class Ledger:
    """Per-year, per-kind totals of exchanges."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])

    def record(
        self, year: int, kind: str, count: float, amount: float = 0.0, tco2e: float = 0.0
    ) -> None:
        """Add ``count`` exchanges of ``kind`` in ``year`` carrying ``amount`` EUR and ``tco2e``."""
        if kind not in KINDS:
            raise ValueError(f"unknown exchange kind {kind!r}; allowed: {', '.join(KINDS)}")
        if count <= 0:
            return
        row = self._rows[(year, kind)]
        row[0] += count
        row[1] += amount
        row[2] += tco2e

    def total(self, year: int, kind: str) -> tuple[float, float, float]:
        """(count, amount, tco2e) of one year and kind."""
        c, a, t = self._rows.get((year, kind), (0.0, 0.0, 0.0))
        return c, a, t

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: year, kind, count, amount (EUR), tco2e; sorted by year and kind order."""
        rows = [
            {"year": y, "kind": k, "count": v[0], "amount": v[1], "tco2e": v[2]}
            for (y, k), v in self._rows.items()
        ]
        frame = pd.DataFrame(rows, columns=["year", "kind", "count", "amount", "tco2e"])
        if frame.empty:
            return frame.astype({"year": "int64", "kind": "object"})
        frame["_order"] = frame["kind"].map(KINDS.index)
        frame = frame.sort_values(["year", "_order"]).drop(columns="_order")
        frame["year"] = frame["year"].astype("int64")
        return frame.reset_index(drop=True)
