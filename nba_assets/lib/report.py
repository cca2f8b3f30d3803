"""The grading summary per prediction system: figures, a text table and pictures."""

from __future__ import annotations

import io
import math
from typing import Any

import polars as pl
from matplotlib.figure import Figure

from nba_assets.lib.grading import performance
from nba_assets.lib.lines import american_to_decimal
from nba_assets.lib.predict.market_blend import RECOMMENDED_SYSTEM
from nba_assets.lib.predict.recommendation import OVER

BREAK_EVEN_AT_MINUS_110 = 110 / 210
SUMMARY_KEYS = (
    "system_id",
    "predictions",
    "graded",
    "mae",
    "line_mae",
    "picks",
    "hits",
    "misses",
    "pushes",
    "hit_rate",
    "units",
    "roi",
)
EDGE_BUCKETS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)
# A market system's pick is a bet at one book's offer: its edge is the expected value there.
EV_BUCKETS = (0.0, 0.04, 0.08, 0.12)
Z_95 = 1.959964  # two-sided 95% normal quantile


def wilson_interval(hits: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """95% Wilson score interval of a hit rate (None without trials): unlike the normal
    approximation it stays inside 0..1 and is honest for the small counts of a few picks."""
    if n <= 0:
        return None
    rate = hits / n
    centre = rate + z * z / (2 * n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return ((centre - half) / scale, (centre + half) / scale)


def mean_interval(values: list[float], z: float = Z_95) -> tuple[float, float] | None:
    """95% normal interval of a mean return per unit (None with fewer than 2 values)."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = z * sd / math.sqrt(n)
    return (mean - half, mean + half)


def _interval(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [round(bounds[0], 4), round(bounds[1], 4)]


def pick_buckets(accuracy: pl.DataFrame) -> pl.DataFrame:
    """Settled OVER / UNDER picks per system and edge bucket: ``picks``, ``hits``,
    ``misses``, ``hit_rate``, ``roi`` and their 95% intervals (``*_low``, ``*_high``).

    The edge is |predicted - line| in points, or, for a pick with an ``over_probability`` (the
    market systems'), the expected value of its bet at its price (buckets ``ev 0.00-0.04``...).
    """
    bets = accuracy.filter(pl.col("units").is_not_null())
    if "over_probability" not in bets.columns:  # rows graded before the column existed
        bets = bets.with_columns(over_probability=pl.lit(None, pl.Float64))
    over = pl.col("recommendation") == OVER
    won = pl.when(over).then(pl.col("over_probability")).otherwise(1 - pl.col("over_probability"))
    price = pl.when(over).then(pl.col("over_price")).otherwise(pl.col("under_price"))
    bucket_of = (
        pl.when(pl.col("over_probability").is_not_null())
        .then(_ev_bucket(won * american_to_decimal(price) - 1))
        .otherwise(_edge_bucket(pl.col("edge")))
    )
    rows = []
    for (system, bucket), part in bets.with_columns(bucket=bucket_of).group_by(
        "system_id", "bucket"
    ):
        rows.append({"system_id": system, "bucket": bucket, **_pick_figures(part)})
    schema = {"system_id": pl.String, "bucket": pl.String, **_PICK_SCHEMA}
    return pl.DataFrame(rows, schema=schema).sort("system_id", "bucket")


_PICK_SCHEMA = {
    "picks": pl.Int64,
    "hits": pl.Int64,
    "misses": pl.Int64,
    "hit_rate": pl.Float64,
    "hit_rate_low": pl.Float64,
    "hit_rate_high": pl.Float64,
    "roi": pl.Float64,
    "roi_low": pl.Float64,
    "roi_high": pl.Float64,
}


def _pick_figures(bets: pl.DataFrame) -> dict[str, Any]:
    """Figures of settled bets (``units`` not null, ``prediction_correct``): pushes stake and
    return, and are left out of the hit rate."""
    correct = bets.get_column("prediction_correct").cast(pl.Boolean)
    hits = int(correct.sum())
    misses = int((~correct).sum())
    units = bets.get_column("units").to_list()
    hit_ci = wilson_interval(hits, hits + misses)
    roi_ci = mean_interval(units)
    return {
        "picks": bets.height,
        "hits": hits,
        "misses": misses,
        "hit_rate": hits / (hits + misses) if hits + misses else None,
        "hit_rate_low": hit_ci[0] if hit_ci else None,
        "hit_rate_high": hit_ci[1] if hit_ci else None,
        "roi": sum(units) / len(units) if units else None,
        "roi_low": roi_ci[0] if roi_ci else None,
        "roi_high": roi_ci[1] if roi_ci else None,
    }


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def summarize(accuracy: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per system with the keys of :data:`SUMMARY_KEYS`.

    ``graded``, ``mae`` and ``line_mae`` cover the same player-games (played, with a line);
    ``picks`` are settled OVER / UNDER bets, ``hit_rate`` leaves pushes out, ``roi`` is units won
    per unit staked at the recorded prices. Figures are null where there is nothing to measure.
    Each dict also has ``hit_rate_ci`` (95% Wilson) and ``roi_ci`` (95% normal), and
    ``pick_buckets``: the picks' figures per edge bucket (:func:`pick_buckets`), and
    ``recommended``: whether it is the product's recommended system.
    """
    if accuracy.is_empty():
        return []
    table = performance(accuracy, ["system_id"])
    buckets = pick_buckets(accuracy)
    out = []
    for row in table.iter_rows(named=True):
        system = row["system_id"]
        bets = accuracy.filter(pl.col("system_id") == system, pl.col("units").is_not_null())
        figures = _pick_figures(bets)
        own = buckets.filter(pl.col("system_id") == system).drop("system_id")
        out.append(
            {k: _rounded(row[k]) for k in SUMMARY_KEYS}
            | {
                "hit_rate_ci": _interval(
                    None
                    if figures["hit_rate_low"] is None
                    else (figures["hit_rate_low"], figures["hit_rate_high"])
                ),
                "roi_ci": _interval(
                    None
                    if figures["roi_low"] is None
                    else (figures["roi_low"], figures["roi_high"])
                ),
                "pick_buckets": [
                    {k: _rounded(v) for k, v in b.items()} for b in own.iter_rows(named=True)
                ],
                "recommended": system == RECOMMENDED_SYSTEM,
            }
        )
    return out


def season_average_reference(accuracy: pl.DataFrame, features: pl.DataFrame) -> dict[str, Any]:
    """The season-to-date average (the previous season's before a player's first game) as a
    predictor on the graded player-games: ``player_games``, ``mae`` and the line's ``line_mae``
    on those same player-games; null figures when there is nothing to measure.

    Args:
        accuracy: ``prediction_accuracy`` rows (any systems; each player-game counts once).
        features: feature-store rows with ``game_date``, ``player_id``, ``points_avg_season``
            and ``points_avg_prev_season``.
    """
    graded = accuracy.filter(pl.col("graded")).unique(["game_date", "player_id"])
    average = features.select(
        "game_date",
        "player_id",
        average=pl.coalesce("points_avg_season", "points_avg_prev_season"),
    )
    rows = graded.join(average, on=["game_date", "player_id"]).drop_nulls("average")
    actual = pl.col("actual_points")
    figures = rows.select(
        player_games=pl.len(),
        mae=(pl.col("average") - actual).abs().mean(),
        line_mae=(pl.col("line") - actual).abs().mean(),
    )
    return {k: _rounded(v) for k, v in figures.row(0, named=True).items()}


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "ci":
        return f"{100 * value[0]:.0f}..{100 * value[1]:.0f}%"
    if kind == "float":
        return f"{value:.3f}"
    return str(value)


def render_table(summary: list[dict[str, Any]]) -> str:
    """A fixed-width text table of :func:`summarize`'s rows, then the picks of each system by
    edge bucket (:func:`pick_buckets`; hit rate and ROI with their 95% intervals)."""
    headers = ("system", "graded", "MAE", "line MAE", "picks", "hit rate", "95% CI", "ROI")
    headers += ("95% CI",)
    rows = [
        (
            _cell(r["system_id"], "str") + (" *" if r.get("recommended") else ""),
            _cell(r["graded"], "int"),
            _cell(r["mae"], "float"),
            _cell(r["line_mae"], "float"),
            _cell(r["picks"], "int"),
            _cell(r["hit_rate"], "pct"),
            _cell(r.get("hit_rate_ci"), "ci"),
            _cell(r["roi"], "pct"),
            _cell(r.get("roi_ci"), "ci"),
        )
        for r in summary
    ]
    text = _fixed_width(headers, rows)
    if any(r.get("recommended") for r in summary):
        text += "\n* the recommended system: its picks are the product's"
    bucket_rows = [
        (
            _cell(r["system_id"], "str"),
            b["bucket"],
            _cell(b["picks"], "int"),
            _cell(b["hit_rate"], "pct"),
            _cell(_pair(b, "hit_rate"), "ci"),
            _cell(b["roi"], "pct"),
            _cell(_pair(b, "roi"), "ci"),
        )
        for r in summary
        for b in r.get("pick_buckets", [])
    ]
    if not bucket_rows:
        return text
    headers = ("picks by edge", "edge", "picks", "hit rate", "95% CI", "ROI", "95% CI")
    return text + "\n" + _fixed_width(headers, bucket_rows)


def _pair(figures: dict[str, Any], name: str) -> tuple[float, float] | None:
    low, high = figures.get(f"{name}_low"), figures.get(f"{name}_high")
    return None if low is None or high is None else (low, high)


def _fixed_width(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format="png")
    return buffer.getvalue()


def _mae_over_time(accuracy: pl.DataFrame) -> bytes:
    daily = performance(accuracy, ["game_date", "system_id"]).filter(pl.col("graded") > 0)
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    for system in daily.get_column("system_id").unique().sort().to_list():
        part = daily.filter(pl.col("system_id") == system)
        ax.plot(part["game_date"].to_list(), part["mae"].to_list(), marker="o", ms=3, label=system)
    line = daily.group_by("game_date").agg(pl.col("line_mae").first()).sort("game_date")
    ax.plot(line["game_date"].to_list(), line["line_mae"].to_list(), "k--", label="line")
    ax.set(title="MAE per day (played player-games with a line)", ylabel="points")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return _png(fig)


def _calibration(accuracy: pl.DataFrame) -> bytes:
    played = accuracy.filter(pl.col("actual_points").is_not_null())
    binned = (
        played.with_columns(bin=(pl.col("predicted_points") / 2.5).floor() * 2.5 + 1.25)
        .group_by("system_id", "bin")
        .agg(actual=pl.col("actual_points").mean(), n=pl.len())
        .filter(pl.col("n") >= 10)
        .sort("system_id", "bin")
    )
    fig = Figure(figsize=(11, 5))
    ax = fig.add_subplot(1, 2, 1)
    top = float(binned["bin"].max() or 30.0) + 2.5  # type: ignore[arg-type]
    ax.plot([0, top], [0, top], "k:", lw=1, label="perfect")
    for system in binned.get_column("system_id").unique().sort().to_list():
        part = binned.filter(pl.col("system_id") == system)
        ax.plot(part["bin"].to_list(), part["actual"].to_list(), marker="o", ms=3, label=system)
    ax.set(
        title="Calibration", xlabel="predicted points (bins of 2.5)", ylabel="mean actual points"
    )
    ax.legend(fontsize=8)
    _over_calibration(fig.add_subplot(1, 2, 2), played)
    return _png(fig)


def over_calibration(accuracy: pl.DataFrame) -> pl.DataFrame:
    """Per system and bin of ``over_probability`` (0.05 wide): the mean probability, the share
    of played player-games that went over (pushes left out) and their count."""
    if "over_probability" not in accuracy.columns:  # rows graded before the column existed
        accuracy = accuracy.with_columns(over_probability=pl.lit(None, pl.Float64))
    decided = accuracy.filter(
        pl.col("over_probability").is_not_null(),
        pl.col("actual_points").is_not_null(),
        pl.col("actual_points") != pl.col("line"),
    )
    return (
        decided.with_columns(bin=(pl.col("over_probability") / 0.05).floor() * 0.05 + 0.025)
        .group_by("system_id", "bin")
        .agg(
            probability=pl.col("over_probability").mean(),
            over_rate=(pl.col("actual_points") > pl.col("line")).mean(),
            n=pl.len(),
        )
        .sort("system_id", "bin")
    )


def _over_calibration(ax: Any, played: pl.DataFrame) -> None:
    binned = over_calibration(played).filter(pl.col("n") >= 10)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect")
    for system in binned.get_column("system_id").unique().sort().to_list():
        part = binned.filter(pl.col("system_id") == system)
        ax.plot(
            part["probability"].to_list(),
            part["over_rate"].to_list(),
            marker="o",
            ms=3,
            label=system,
        )
    ax.set(
        title="Probability of the over (bins of 0.05, 10+ games)",
        xlabel="calibrated probability",
        ylabel="share that went over",
        xlim=(0.2, 0.8),
        ylim=(0.2, 0.8),
    )
    ax.legend(fontsize=8)


def _edge_labels() -> list[str]:
    pairs = zip(EDGE_BUCKETS, EDGE_BUCKETS[1:], strict=False)
    return [f"{lo:g}-{hi:g}" for lo, hi in pairs] + [f"{EDGE_BUCKETS[-1]:g}+"]


def _edge_bucket(edge: pl.Expr) -> pl.Expr:
    labels = _edge_labels()
    size = edge.abs()
    expr = pl.when(size >= EDGE_BUCKETS[-1]).then(pl.lit(labels[-1]))
    for upper, label in zip(EDGE_BUCKETS[1:], labels, strict=False):
        expr = expr.when(size < upper).then(pl.lit(label))
    return expr


def _ev_bucket(ev: pl.Expr) -> pl.Expr:
    pairs = list(zip(EV_BUCKETS, EV_BUCKETS[1:], strict=False))
    expr = pl.when(ev >= EV_BUCKETS[-1]).then(pl.lit(f"ev {EV_BUCKETS[-1]:.2f}+"))
    for lo, hi in pairs:
        expr = expr.when(ev < hi).then(pl.lit(f"ev {lo:.2f}-{hi:.2f}"))
    return expr


def edge_buckets(accuracy: pl.DataFrame) -> pl.DataFrame:
    """Hit rate of the side the edge points to, per system and |edge| bucket (pushes left out),
    whether or not the edge cleared the pick thresholds."""
    sided = accuracy.filter(
        pl.col("graded"), pl.col("edge") != 0, pl.col("actual_points") != pl.col("line")
    )
    hit = (pl.col("edge") > 0) == (pl.col("actual_points") > pl.col("line"))
    return (
        sided.with_columns(bucket=_edge_bucket(pl.col("edge")))
        .group_by("system_id", "bucket")
        .agg(hit_rate=hit.mean(), n=pl.len())
        .sort("system_id", "bucket")
    )


def _hit_rate_by_edge(accuracy: pl.DataFrame) -> bytes:
    buckets = edge_buckets(accuracy)
    systems = buckets.get_column("system_id").unique().sort().to_list()
    labels = _edge_labels()
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    width = 0.8 / max(len(systems), 1)
    for i, system in enumerate(systems):
        part = buckets.filter(pl.col("system_id") == system)
        rates = dict(zip(part["bucket"].to_list(), part["hit_rate"].to_list(), strict=True))
        xs = [j + i * width for j in range(len(labels))]
        ax.bar(xs, [rates.get(label) or 0.0 for label in labels], width=width, label=system)
    ax.axhline(BREAK_EVEN_AT_MINUS_110, color="k", ls="--", lw=1, label="break-even at -110")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels)
    ax.set(title="Hit rate by |edge| over the line", xlabel="|predicted - line|", ylabel="hit rate")
    ax.set_ylim(0.3, 0.8)
    ax.legend(fontsize=8)
    return _png(fig)


def render_plots(accuracy: pl.DataFrame) -> dict[str, bytes]:
    """MAE per system over time, calibration and hit rate by edge, as PNG bytes by file name."""
    return {
        "mae_by_day.png": _mae_over_time(accuracy),
        "calibration.png": _calibration(accuracy),
        "hit_rate_by_edge.png": _hit_rate_by_edge(accuracy),
    }
