"""Classic Kaggle files made at test time from the shipped IBM file (never committed).

The classic file ("Telco Customer Churn", 21 columns) is exactly the first 21 columns of
``data/raw/telco_customer_churn.csv``: ``customerID``, the 19 classic features and ``Churn``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from churn_core.config import RAW_CUSTOMERS_CSV

CLASSIC_N_COLUMNS = 21


def classic_bytes(churn: bool = True, rows: int | None = None) -> bytes:
    """The shipped file cut to its first 21 columns (20 without ``Churn``), first ``rows`` data rows."""
    text = RAW_CUSTOMERS_CSV.read_text(encoding="utf-8-sig")
    keep = CLASSIC_N_COLUMNS if churn else CLASSIC_N_COLUMNS - 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if rows is not None and i > rows:
            break
        writer.writerow(row[:keep])
    return out.getvalue().encode("utf-8")


def write_classic(directory: Path, churn: bool = True, rows: int | None = None) -> Path:
    """Write :func:`classic_bytes` to ``directory`` (a ``tmp_path``) and return the file."""
    path = Path(directory) / ("classic.csv" if churn else "classic_no_churn.csv")
    path.write_bytes(classic_bytes(churn, rows))
    return path
