"""Charts as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from knowledge.schema import Pillar
from tools.results import AuditResult

RADAR_SIZE = (6.0, 6.0)  # inches; at DPI this is 600 x 600 pixels
PROGRESS_SIZE = (8.0, 4.8)  # 800 x 480 pixels
DPI = 100
PILLAR_ORDER = (Pillar.TECHNICAL, Pillar.LIFECYCLE, Pillar.ETHICS, Pillar.CAREER)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: Path, description: str) -> Path:
    """Render to memory first, then write atomically: a full disk leaves no half-written PNG.

    The PNG carries the values it draws as its description (alt text for screen readers and
    scripts), so what a chart shows can be checked without looking at it."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Description": description})
    _pyplot().close(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_bytes(buffer.getvalue())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def radar_chart(result: AuditResult, path: Path) -> Path:
    """The four pillar scores of one audit on a radar, with the weights in the labels."""
    plt = _pyplot()
    pillars = [result.pillars[key] for key in PILLAR_ORDER]
    labels = [f"{p.title}\n({p.weight:.0%})" for p in pillars]
    values = [p.score or 0.0 for p in pillars]
    angles = [2 * math.pi * i / len(values) for i in range(len(values))]
    figure = plt.figure(figsize=RADAR_SIZE)
    axes = figure.add_subplot(projection="polar")
    axes.plot([*angles, angles[0]], [*values, values[0]], color="#1f77b4", linewidth=2)
    axes.fill([*angles, angles[0]], [*values, values[0]], color="#1f77b4", alpha=0.25)
    axes.set_xticks(angles, labels, fontsize=9)
    axes.set_ylim(0, 100)
    axes.set_yticks([25, 50, 75, 100])
    axes.set_rlabel_position(22.5)
    axes.tick_params(axis="x", pad=14)
    overall = result.overall.score
    title = f"Pillar scores, {result.as_of}" + (
        f" (overall {overall:.1f})" if overall is not None else ""
    )
    axes.set_title(title, pad=24)
    figure.tight_layout()
    drawn = "; ".join(f"{p.title} {_value(p.score)}" for p in pillars)
    return _save(figure, path, f"{title}: {drawn}")


def progress_chart(audits: list[AuditResult], path: Path) -> Path:
    """Overall and pillar scores across audits, oldest first."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=PROGRESS_SIZE)
    dates = [a.as_of for a in audits]
    overall = [a.overall.score for a in audits]
    axes.plot(dates, overall, marker="o", linewidth=2.5, color="black", label="Overall")
    for key in PILLAR_ORDER:
        scores = [a.pillars[key].score for a in audits]
        axes.plot(dates, scores, marker="o", linewidth=1.2, label=audits[-1].pillars[key].title)
    axes.set_ylim(0, 100)
    axes.set_ylabel("score (0-100)")
    axes.set_title("Audit scores over time")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.autofmt_xdate()
    figure.tight_layout()
    drawn = "; ".join(
        f"{a.as_of} overall {_value(a.overall.score)} ("
        + ", ".join(f"{a.pillars[k].title} {_value(a.pillars[k].score)}" for k in PILLAR_ORDER)
        + ")"
        for a in audits
    )
    return _save(figure, path, f"Audit scores over time: {drawn}")


def _value(score: float | None) -> str:
    return "not scored" if score is None else f"{score:.1f}"
