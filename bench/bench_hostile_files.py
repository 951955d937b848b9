"""Every importer on a 2 MB file (target: under 2 s and 200 MB each), and special files refused.

Each case runs in its own Python process, so that its peak memory (max RSS, which includes
the interpreter and the imports: about 60-90 MB) and its time are its own. The time is that
of the import call alone, measured inside the process; the files are the largest plausible
input under the 2 MB mark (valid data, unique values, so no cache helps), plus the worst
hostile profiles the reliability report found (alias floods, hundreds of thousands of items).

    PYTHONPATH=. python bench/bench_hostile_files.py
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._util import print_table, record

SIZE = 2_000_000
ROOT = Path(__file__).resolve().parents[1]

# Each runner reads FILE and prints {"seconds": ..., "ok": ..., "detail": ...}.
RUNNER = """
import datetime as dt, json, resource, sys, time
from pathlib import Path
from knowledge.base import default_knowledge
from tools.errors import SkillAuditError
kind, path = sys.argv[1], Path(sys.argv[2])
kb = default_knowledge()
as_of = dt.date(2026, 11, 28)
start = time.perf_counter()
try:
    if kind == "profile":
        from tools.profile import load_profile
        detail = f"{len(load_profile(path, kb).income)} income rows"
    elif kind == "certificates":
        from tools.connectors.certificates import CertificatesParams, collect
        detail = collect(CertificatesParams(path=path, as_of=as_of), kb).summary
    elif kind == "income_csv":
        from tools.connectors.income_csv import IncomeParams, collect
        detail = collect(IncomeParams(path=path, as_of=as_of)).summary
    elif kind == "fairness":
        from tools.connectors.fairness import FairnessQuery, collect
        detail = collect(FairnessQuery(path=path), as_of).summary
    elif kind == "cv":
        from tools.connectors.cv import CVParams, collect
        detail = collect(CVParams(path=path, as_of=as_of), kb).summary
    elif kind == "job_postings":
        from tools.connectors.job_postings import JobPostingsParams, collect
        detail = collect(JobPostingsParams(path=path, as_of=as_of), kb).summary
    elif kind == "kaggle":
        from tools.connectors.kaggle import collect
        detail = collect(kb, export=path, as_of=as_of).summary
    ok = True
except SkillAuditError as exc:
    ok, detail = False, str(exc)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "ok": ok, "detail": detail[:90]}))
"""


def pad(lines: list[str], header: str) -> str:
    """Header plus as many lines as fit under SIZE bytes."""
    out, size = [header], len(header) + 1
    for line in lines:
        if size + len(line) + 1 > SIZE:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) + "\n"


def files(folder: Path, rng: random.Random) -> list[tuple[str, str, Path]]:
    """(importer, case, path) for every case."""

    def write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    words = ["python", "docker", "kubernetes", "pytorch", "sql", "spark", "mlflow", "airflow",
             "statistics", "negotiation", "pricing", "leadership", "terraform", "evidently"]  # fmt: skip
    cases = []
    rows = [f"  - {{date: 2026-{1 + i % 11:02d}-{1 + i % 28:02d}, client: client-{i:06d}-"
            f"{rng.randrange(10**9)}, amount: {rng.randrange(100, 5000)}}}" for i in range(10_000)]  # fmt: skip
    cases.append(
        (
            "profile",
            "10,000 income rows (the cap)",
            write(
                "p.yaml", "user: p\ntarget_role: ml engineer\nincome:\n" + "\n".join(rows) + "\n"
            ),
        )
    )
    cases.append(
        (
            "profile",
            "alias flood, 600,000 items",
            write(
                "a.yaml",
                "user: p\ntarget_role: ml engineer\nx: &e {}\nincome: [*e"
                + ",*e" * 599_999
                + "]\n",
            ),
        )
    )
    cases.append(
        (
            "profile",
            "380,000 empty items",
            write("e.yaml", "user: p\ntarget_role: ml engineer\nincome:\n" + "- {}\n" * 380_000),
        )
    )
    titles = [f"{rng.choice(words).title()} {rng.choice(words).title()} Course {i} {rng.randrange(10**6)},2026-0{1 + i % 9}-01" for i in range(60_000)]  # fmt: skip
    cases.append(
        ("certificates", "2 MB of unique titles", write("c.csv", pad(titles, "name,date")))
    )
    payments = [f"2026-{1 + i % 11:02d}-{1 + i % 28:02d},Client {rng.randrange(5000)},{rng.uniform(10, 5000):.2f},s{i % 4},EUR" for i in range(80_000)]  # fmt: skip
    cases.append(
        (
            "income_csv",
            "2 MB of payments",
            write("i.csv", pad(payments, "date,client,amount,stream,currency")),
        )
    )
    predictions = [f"{rng.randrange(2)},{rng.randrange(2)},{rng.random():.4f},{rng.choice('fm')},{rng.choice(['18-25', '26-40', '41+'])}" for _ in range(120_000)]  # fmt: skip
    cases.append(
        (
            "fairness",
            "2 MB of predictions",
            write("f.csv", pad(predictions, "label,prediction,score,sex,age_band")),
        )
    )
    prose = [" ".join(rng.choice([*words, "and", "with", "built", "models", "for"]) for _ in range(12)) for _ in range(40_000)]  # fmt: skip
    cases.append(
        (
            "cv",
            "2 MB of text (cut at 200,000 characters)",
            write("cv.txt", pad(prose, "Jane Probe")),
        )
    )
    cases.append(("job_postings", "2 MB posting", write("j.txt", pad(prose, "Title: ML engineer"))))
    competitions = [f"Competition {i},{rng.randrange(1, 900)},1000,,2025-01-01,tabular" for i in range(60_000)]  # fmt: skip
    cases.append(
        (
            "kaggle",
            "2 MB list (first 200 rows read)",
            write("k.csv", pad(competitions, "competition,rank,teams,medal,date,tags")),
        )
    )
    for kind, suffix in (
        ("profile", ".yaml"),
        ("income_csv", ".csv"),
        ("cv", ".txt"),
        ("cv", ".pdf"),
    ):
        fifo = folder / f"fifo-{kind}{suffix}"
        os.mkfifo(fifo)
        zero = folder / f"zero-{kind}{suffix}"
        zero.symlink_to("/dev/zero")
        cases.append((kind, f"a FIFO named {suffix} (refused)", fifo))
        cases.append((kind, f"a link to /dev/zero named {suffix} (refused)", zero))
    return cases


def main() -> None:
    rng = random.Random(16)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, case, path in files(Path(tmp), rng):
            size = path.stat().st_size if path.is_file() and not path.is_symlink() else 0
            done = subprocess.run(
                [sys.executable, "-c", RUNNER, kind, str(path)],
                capture_output=True, text=True, timeout=120, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            if done.returncode != 0:
                rows.append([kind, case, f"{size / 1e6:.2f}", "crash", "-", done.stderr[-80:]])
                continue
            out = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append([kind, case, f"{size / 1e6:.2f}", f"{out['seconds']:.2f}",
                         f"{out['rss_mb']:.0f}", ("" if out["ok"] else "refused: ") + out["detail"]])  # fmt: skip
            record(f"{kind}: {case}", "< 2 s, < 200 MB", out["seconds"], unit="s")
    print_table(
        "Importers on 2 MB and hostile files (one process each; RSS includes the interpreter)",
        ["importer", "case", "MB", "s", "max RSS MB", "result"],
        rows,
    )


if __name__ == "__main__":
    main()
