"""The participation chart of `cae attendance --chart FILE`: is the collective growing or fading?

One line per kind of ritual: the participation rate per year (top), and how
many came (bottom), so a shrinking rate in a growing cooperative is told
apart from a shrinking collective. matplotlib's Agg backend draws without a
display; the file's suffix (.png, .svg, .pdf) chooses the format.
"""

from __future__ import annotations

from pathlib import Path

from governance.participation import Participation
from engine.wording import term

FORMATS = (".png", ".svg", ".pdf")


def participation_chart(report: Participation, path: Path) -> None:
    """Write the chart to `path`; ValueError for a format matplotlib is not asked to write."""
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"chart file {term(path.name)}: use a .png, .svg or .pdf name")
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure, (rates, counts) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    all_years = sorted({y for _, y, _, _ in report.by_year})
    for i, kind in enumerate(report.kinds()):
        rows = [(y, c) for k, y, _, c in report.by_year if k == kind]
        marker = "osD^v<>p*h"[i % 10]
        # A rate is plotted, not computed, as a float: the report keeps it as a Decimal.
        rated = [(y, float(c.rate) * 100) for y, c in rows if c.rate is not None]
        rates.plot([y for y, _ in rated], [r for _, r in rated], marker=marker, label=kind)
        counts.plot([y for y, _ in rows], [c.came for _, c in rows], marker=marker, label=kind)
    if all_years:
        counts.set_xticks(all_years)
        counts.set_xlim(all_years[0] - 0.5, all_years[-1] + 0.5)
    rates.set_ylabel("participation")
    rates.yaxis.set_major_formatter(PercentFormatter())
    rates.set_ylim(0, 105)
    rates.set_title("Participation in the cooperative's rituals, per year")
    if report.kinds():
        rates.legend(loc="best", fontsize="small")
    rates.grid(alpha=0.3)
    counts.set_ylabel("came (present or remote)")
    counts.set_xlabel("year")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.set_ylim(bottom=0)
    counts.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
