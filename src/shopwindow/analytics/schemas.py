"""Report response models and the one serialiser shared by the JSON API, pages and CSV."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shopwindow.analytics import report_rules as rr
from shopwindow.analytics.reports import Figures, Report


class AmountRead(BaseModel):
    """Money: integer minor units + ISO 4217 currency + display text in the locale."""

    amount_minor: int
    currency: str
    formatted: str


class RangeRead(BaseModel):
    """The window actually reported (aligned to the viewer's buckets)."""

    start: str
    end: str
    grain: str
    source_grain: str
    tz: str
    day_basis: str


class ScopeRead(BaseModel):
    """What the report covers."""

    kind: str
    id: str | None
    title: str


class FiguresRead(BaseModel):
    """Counts (plain integers) and money (per currency) of one row."""

    counts: dict[str, int]
    money: dict[str, list[AmountRead]]


class BreakdownRow(FiguresRead):
    """One dimension value."""

    value: str


class TopRead(FiguresRead):
    """One entry of a top list."""

    entity_type: str
    id: str
    name: str
    url: str | None


class ReportRead(BaseModel):
    """A report: series per metric aligned to `labels`, totals, rates, breakdown, tops."""

    scope: ScopeRead
    range: RangeRead
    metrics: list[str]
    labels: list[str]
    display_labels: list[str]
    buckets: list[str]
    series: dict[str, list[int]]
    money_series: dict[str, dict[str, list[int]]]
    totals: FiguresRead
    formatted: dict[str, str]
    derived: dict[str, Any]
    currencies: list[str]
    breakdown: dict[str, Any] | None = None
    top: dict[str, list[TopRead]]
    live: list[str]


def amount(n: int, currency: str, locale: str) -> AmountRead:
    """One amount with its display text."""
    return AmountRead(amount_minor=n, currency=currency,
                      formatted=rr.format_money(n, currency, locale))


def figures(f: Figures, locale: str) -> dict[str, Any]:
    counts, money = f.plain()
    return {"counts": counts,
            "money": {m: [amount(v, c, locale) for c, v in sorted(per.items())]
                      for m, per in sorted(money.items())}}


def _rate(r: rr.Ratio, locale: str) -> dict[str, Any]:
    return {"value": r.value, "numerator": r.numerator, "denominator": r.denominator,
            "formatted": rr.format_rate(r, locale)}


def derived(d: dict[str, object], locale: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, rr.Ratio):
            out[k] = _rate(v, locale)
        elif k == "cost_per_result" and isinstance(v, dict):
            out[k] = [amount(int(n), c, locale).model_dump() if n is not None
                      else {"amount_minor": None, "currency": c, "formatted": "–"}
                      for c, n in v.items()]
        elif isinstance(v, int):
            out[k] = {"value": v, "formatted": rr.format_count(v, locale)}
        else:
            out[k] = {"value": v, "formatted": "–" if v is None else str(v)}
    return out


def report_read(rep: Report, locale: str) -> ReportRead:
    """Serialise a report for the API, the pages' embedded data and live refreshes."""
    w = rep.window
    counts, money = rep.totals.plain()
    series = {m: [rep.series[b].counts.get(m, 0) for b in rep.buckets]
              for m in rr.COUNT_METRICS}
    money_series = {m: {c: [rep.series[b].money.get(m, {}).get(c, 0) for b in rep.buckets]
                        for c in rep.currencies} for m in rr.MONEY_METRICS}
    formatted = {m: rr.format_count(counts.get(m, 0), locale) for m in rr.COUNT_METRICS}
    for m in rr.MONEY_METRICS:
        per = money.get(m, {})
        formatted[m] = " · ".join(rr.format_money(per.get(c, 0), c, locale)
                                  for c in rep.currencies) or "–"
    bd = None
    if rep.breakdown_dim:
        bd = {"dim": rep.breakdown_dim,
              "rows": [BreakdownRow(value=v, **figures(f, locale)).model_dump()
                       for v, f in rep.breakdown]}
    return ReportRead(
        scope=ScopeRead(kind=rep.scope.kind, title=rep.scope.title,
                        id=str(rep.scope.object_id) if rep.scope.object_id is not None
                        else None),
        range=RangeRead(start=w.start.isoformat(), end=w.end.isoformat(), grain=w.grain,
                        source_grain=w.source, tz=w.tz_name, day_basis=w.day_basis),
        metrics=list(rep.metrics), labels=[rr.label(b, w) for b in rep.buckets],
        display_labels=[rr.display_label(b, w) for b in rep.buckets],
        buckets=[b.isoformat() for b in rep.buckets], series=series,
        money_series=money_series,
        totals=FiguresRead(**figures(rep.totals, locale)), formatted=formatted,
        derived=derived(rep.derived, locale), currencies=rep.currencies, breakdown=bd,
        top={k: [TopRead(entity_type=t.entity_type, id=str(t.entity_id), name=t.name,
                         url=t.url, **figures(t.figures, locale)) for t in rows]
             for k, rows in rep.tops.items()},
        live=sorted(f"{t}:{i}" for t, i in rep.scope.keys))


def csv_table(rep: Report, table: str) -> list[list[object]]:
    """Rows of a CSV export: the series (default), the breakdown, or the top lists.

    Money columns hold exact decimal strings of the major unit ("12.50"), one per currency.
    """
    w = rep.window
    head: list[list[object]] = [["report", rep.scope.kind, rep.scope.title],
                                ["range", w.start.isoformat(), w.end.isoformat(), w.grain,
                                 w.tz_name, w.day_basis]]
    money_cols = [(m, c) for m in rr.MONEY_METRICS for c in rep.currencies]
    cols = [*rr.COUNT_METRICS, *(f"{m}_{c}" for m, c in money_cols)]

    def row(f: Figures) -> list[object]:
        return [*(f.counts.get(m, 0) for m in rr.COUNT_METRICS),
                *(_decimal(f.money.get(m, {}).get(c, 0), c) for m, c in money_cols)]

    if table == "breakdown":
        return [*head, [rep.breakdown_dim or "", *cols],
                *([v, *row(f)] for v, f in rep.breakdown)]
    if table == "top":
        out: list[list[object]] = [*head, ["list", "entity_type", "id", "name", *cols]]
        for name, rows in rep.tops.items():
            out += [[name, t.entity_type, str(t.entity_id), t.name, *row(t.figures)]
                    for t in rows]
        return out
    return [*head, ["bucket", *cols],
            *([rr.label(b, w), *row(rep.series[b])] for b in rep.buckets),
            ["total", *row(rep.totals)]]


def _decimal(n: int, currency: str) -> str:
    d = rr.minor_digits(currency)
    if d == 0:
        return str(n)
    sign = "-" if n < 0 else ""
    a = abs(n)
    return f"{sign}{a // 10**d}.{a % 10**d:0{d}d}"
