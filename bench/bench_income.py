"""Income connector on 100,000 synthetic payments (target: well under a second per run)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

from bench._util import measure, p95, print_table, record, summary
from tools.connectors.income_csv import IncomeParams, collect

AS_OF = dt.date(2026, 11, 28)


def write_plain(path: Path, rows: int, rng: random.Random) -> None:
    """Payments over three years; amounts formatted like spreadsheets do ("1,234.50")."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "client", "amount", "stream", "currency"])
        for _ in range(rows):
            day = AS_OF - dt.timedelta(days=rng.randrange(3 * 365))
            amount = f"{rng.uniform(-50, 5000):,.2f}"
            stream = rng.choice(("consulting", "courses", "workshops"))
            writer.writerow(
                [day.isoformat(), f"Client {rng.randrange(400)}", amount, stream, "EUR"]
            )


def write_upwork(path: Path, rows: int, rng: random.Random) -> None:
    """Upwork-shaped transaction history: "Mar 15, 2024" dates, fees and withdrawals mixed in."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(
            ["Date", "Type", "Description", "Agency", "Freelancer", "Team", "Account Name", "PO",
             "Amount", "Amount in local currency", "Currency", "Balance"]
        )  # fmt: skip
        for _ in range(rows):
            day = AS_OF - dt.timedelta(days=rng.randrange(3 * 365))
            kind = rng.choice(
                ("Hourly", "Hourly", "Fixed Price", "Bonus", "Service Fee", "Withdrawal")
            )
            amount = rng.uniform(10, 3000) * (-1 if kind in ("Service Fee", "Withdrawal") else 1)
            writer.writerow(
                [day.strftime("%b %d, %Y"), kind, "Invoice for work", "", "Jane Doe",
                 f"Team {rng.randrange(150)}", "Jane Doe", "", f"{amount:,.2f}",
                 f"{amount * 0.92:,.2f}", "EUR", "$0.00"]
            )  # fmt: skip


def main() -> None:
    rng = random.Random(20261128)
    rows = 100_000
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for label, writer in (("plain payments CSV", write_plain), ("Upwork export", write_upwork)):
            path = Path(folder) / f"{writer.__name__}.csv"
            writer(path, rows, rng)
            params = IncomeParams(path=path, as_of=AS_OF)
            times = measure(partial(collect, params), repeat=7, warmup=1)
            size = f"{path.stat().st_size / 1e6:.1f}"
            record(
                f"income metrics, {rows:,} rows ({label})",
                "< 1,000 ms",
                statistics.median(times),
                p95(times),
                "ms",
            )
            table.append([label, f"{rows:,}", size, *summary(times), str(len(times))])
    print_table(
        f"Income connector ({os.cpu_count()} cores, {dt.date.today()})",
        ["input", "rows", "MB", "median ms", "p95 ms", "runs"],
        table,
    )


if __name__ == "__main__":
    main()
