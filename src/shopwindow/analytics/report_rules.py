"""Pure report rules: ranges, grains, viewer-local buckets, derived metrics, CSV cells.

Plain values in, plain values out (no database, no web). Rollups are bucketed in UTC by
the aggregator; everything that depends on the viewer's time zone happens here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency, format_decimal, format_percent

from shopwindow.core.errors import Invalid

GRAINS = ("minute", "hour", "day")
# Display grain → rollup grain code of the aggregator.
ROLLUP_CODE = {"minute": "m", "hour": "h", "day": "d"}
STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}

# Auto grain thresholds (issue 4): minute up to 3 h, hour up to 7 days, day beyond.
AUTO_MINUTE_MAX = timedelta(hours=3)
AUTO_HOUR_MAX = timedelta(days=7)
# Largest range per explicit grain, so one response stays small (≤ ~1,500 points a series).
MAX_SPAN = {"minute": timedelta(hours=24), "hour": timedelta(days=62),
            "day": timedelta(days=1100)}
# Reports read minute / hour rollups only this far back (day rollups for any range): it
# bounds the cost of a report and lets a pruning job drop older fine rollups safely.
MINUTE_HORIZON = timedelta(days=2)
HOUR_HORIZON = timedelta(days=90)

COUNT_METRICS = (
    "impressions", "reads", "dwell_ms", "profile_visits", "follows", "unfollows", "likes",
    "replies", "reposts", "bookmarks", "cart_adds", "cart_removes", "clicks", "orders",
    "refunds", "deliveries", "message_reads",
)
MONEY_METRICS = ("gmv", "refunded", "commission", "commission_settled")
METRICS = COUNT_METRICS + MONEY_METRICS
DIMENSIONS = ("surface", "follower", "vertical", "region", "device", "lang")
DERIVED = ("ctr", "read_rate", "follow_rate", "conversion_rate", "net_follows",
           "avg_dwell_ms", "cost_per_result")

# Headline metrics per report scope (the cards and the default chart of each page).
SCOPE_METRICS: dict[str, tuple[str, ...]] = {
    "account": ("impressions", "reads", "profile_visits", "follows", "unfollows", "likes",
                "replies", "reposts", "bookmarks", "cart_adds", "clicks", "orders", "refunds",
                "gmv", "refunded", "commission", "commission_settled"),
    "post": ("impressions", "reads", "dwell_ms", "likes", "replies", "reposts", "bookmarks",
             "follows", "clicks", "orders", "gmv", "commission"),
    "recommendation": ("impressions", "reads", "bookmarks", "cart_adds", "cart_removes",
                       "clicks", "orders", "refunds", "gmv", "refunded", "commission"),
    "product": ("impressions", "reads", "bookmarks", "cart_adds", "cart_removes", "clicks",
                "orders", "refunds", "gmv", "refunded", "commission"),
    "promotion": ("impressions", "reads", "clicks", "follows", "orders", "gmv"),
    "platform": ("impressions", "reads", "follows", "clicks", "orders", "refunds", "gmv",
                 "refunded", "commission", "commission_settled", "deliveries",
                 "message_reads"),
}
# What a promotion "result" is, for cost per result.
RESULT_METRIC = "clicks"


def is_money(metric: str) -> bool:
    """Whether a metric is an amount of money (minor units per currency)."""
    return metric in MONEY_METRICS


# ------------------------------------------------------------------ parameters


def parse_tz(name: str | None, default: str = "UTC") -> ZoneInfo:
    """An IANA time zone by name, or Invalid naming the `tz` field."""
    raw = (name or default).strip()
    if not raw or len(raw) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", raw) or ".." in raw:
        raise Invalid("Unknown time zone", field="tz", rule="iana_time_zone")
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise Invalid("Unknown time zone", field="tz", rule="iana_time_zone") from exc


def parse_instant(raw: str, tz: ZoneInfo, field: str) -> datetime:
    """An ISO 8601 date (local midnight in `tz`) or date-time (naive = local) → UTC."""
    s = raw.strip()
    if len(s) > 40:
        raise Invalid("Not an ISO 8601 date or time", field=field, rule="iso8601")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            d = date.fromisoformat(s)
            return datetime.combine(d, time(0), tz).astimezone(UTC)
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError as exc:
        raise Invalid("Not an ISO 8601 date or time", field=field, rule="iso8601") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


# Relative ranges ("the last …"): recomputed from now on every refresh, so live pages keep up.
RANGES = {"1h": timedelta(hours=1), "3h": timedelta(hours=3), "24h": timedelta(hours=24),
          "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90),
          "365d": timedelta(days=365)}


def parse_range(raw: str) -> timedelta:
    """A relative range name (1h, 3h, 24h, 7d, 30d, 90d, 365d), or Invalid naming `range`."""
    if raw not in RANGES:
        raise Invalid("range must be one of " + ", ".join(RANGES), field="range", rule="one_of")
    return RANGES[raw]


def auto_grain(span: timedelta) -> str:
    """Minute for ranges up to 3 hours, hour up to 7 days, day beyond."""
    if span <= AUTO_MINUTE_MAX:
        return "minute"
    if span <= AUTO_HOUR_MAX:
        return "hour"
    return "day"


@dataclass(frozen=True, slots=True)
class Window:
    """A validated report window: UTC bounds aligned to the viewer's buckets, grains, zone.

    `source` is the rollup grain read; `day_basis` says whether day buckets are the
    viewer's local days ("local") or UTC days ("utc", day rollups beyond the hour horizon).
    """

    start: datetime
    end: datetime
    grain: str
    source: str
    tz: ZoneInfo
    day_basis: str

    @property
    def tz_name(self) -> str:
        return str(self.tz.key)


def floor_local(dt: datetime, grain: str, tz: ZoneInfo) -> datetime:
    """Start (UTC) of the viewer-local minute / hour / day containing `dt`."""
    local = dt.astimezone(tz)
    if grain == "minute":
        local = local.replace(second=0, microsecond=0)
    elif grain == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        return datetime.combine(local.date(), time(0), tz).astimezone(UTC)
    return local.astimezone(UTC)


def floor_utc(dt: datetime, grain: str) -> datetime:
    """Start of the UTC minute / hour / day containing `dt`."""
    dt = dt.astimezone(UTC)
    if grain == "minute":
        return dt.replace(second=0, microsecond=0)
    if grain == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil(dt: datetime, grain: str, tz: ZoneInfo, utc_days: bool) -> datetime:
    f = floor_utc(dt, grain) if utc_days else floor_local(dt, grain, tz)
    if f == dt:
        return dt
    return next_bucket(f, grain, tz, utc_days)


def next_bucket(start: datetime, grain: str, tz: ZoneInfo, utc_days: bool = False) -> datetime:
    """Start (UTC) of the bucket after the one starting at `start` (DST-safe for days)."""
    if grain != "day" or utc_days:
        return start + STEP[grain]
    local = start.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(local, time(0), tz).astimezone(UTC)


def make_window(*, start: datetime | None, end: datetime | None, grain: str | None,
                tz: ZoneInfo, now: datetime, default_span: timedelta = timedelta(hours=24),
                ) -> Window:
    """Validate a range and grain, choose the rollup source, align to the viewer's buckets.

    Errors name the field: `from`, `to`, `grain`.
    """
    end = end or now
    start = start or end - default_span
    if start >= end:
        raise Invalid("`from` must be before `to`", field="from", rule="before_to")
    if grain is not None and grain not in GRAINS:
        raise Invalid("grain must be minute, hour or day", field="grain", rule="one_of")
    chosen = grain or auto_grain(end - start)
    age = now - start
    if chosen == "minute" and age > MINUTE_HORIZON:
        if grain is not None:
            raise Invalid("Minute detail is available for the last 2 days; choose hour or day",
                          field="grain", rule="minute_horizon")
        chosen = "hour"
    if chosen == "hour" and age > HOUR_HORIZON:
        if grain is not None:
            raise Invalid("Hourly detail is available for the last 90 days; choose day",
                          field="grain", rule="hour_horizon")
        chosen = "day"
    if end - start > MAX_SPAN[chosen]:
        raise Invalid(f"The range is too long for {chosen} grain", field="grain",
                      rule=f"max_span:{chosen}")
    if chosen == "day":
        # Local days come from hour rollups while those exist; older ranges use the
        # aggregator's day rollups, which are UTC days (documented in docs/reports.md).
        source, basis = ("h", "local") if age <= HOUR_HORIZON else ("d", "utc")
        if basis == "utc" and _zero_offset(tz, start, end):
            basis = "local"
    else:
        source, basis = ROLLUP_CODE[chosen], "local"
    if source == "h" and age <= MINUTE_HORIZON and end - start <= MAX_SPAN["minute"] * 2 \
            and not _whole_hour_offsets(tz, start, end):
        # India, Nepal, Newfoundland…: local hours and days start at :30/:45 UTC, which
        # hour rollups cannot split; recent short ranges read minute rollups instead.
        source = "m"
    utc_days = chosen == "day" and basis == "utc"
    a = floor_utc(start, "day") if utc_days else floor_local(start, chosen, tz)
    b = _ceil(end, chosen, tz, utc_days)
    return Window(a, b, chosen, source, tz, basis)


def _whole_hour_offsets(tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    return all(((d.astimezone(tz).utcoffset() or timedelta(0)) % timedelta(hours=1))
               == timedelta(0) for d in (start, end))


def _zero_offset(tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    return all((d.astimezone(tz).utcoffset() or timedelta(0)) == timedelta(0)
               for d in (start, end))


def buckets(w: Window) -> list[datetime]:
    """Every bucket start (UTC) of the window, in order (zeros are filled in by callers)."""
    out: list[datetime] = []
    utc_days = w.grain == "day" and w.day_basis == "utc"
    cur = w.start
    while cur < w.end and len(out) < 5000:
        out.append(cur)
        cur = next_bucket(cur, w.grain, w.tz, utc_days)
    return out


def bucket_of(rollup_start: datetime, w: Window) -> datetime:
    """The display bucket (UTC start) a rollup row belongs to.

    A minute rollup maps exactly into local minutes/hours/days; an hour rollup maps
    exactly into local hours/days for whole-hour offsets (zones with :30/:45 offsets
    attribute the hour to the local hour it starts in).
    """
    if w.grain == "day" and w.day_basis == "utc":
        return floor_utc(rollup_start, "day")
    return floor_local(rollup_start, w.grain, w.tz)


def label(bucket: datetime, w: Window) -> str:
    """ISO label of a bucket in the viewer's zone (dates for day buckets)."""
    if w.grain == "day":
        if w.day_basis == "utc":
            return bucket.astimezone(UTC).date().isoformat()
        return bucket.astimezone(w.tz).date().isoformat()
    return bucket.astimezone(w.tz).isoformat(timespec="minutes")


def source_parts(w: Window, *, series: bool) -> list[tuple[str, datetime, datetime]]:
    """The rollup grains and [start, end) ranges whose rows add up to the window.

    An hour-sourced window reads the whole UTC days inside it from the day rollups (one
    row a day instead of 24; on PostgreSQL each hour row of an entity sits on its own heap
    page, so a 30-day top list was ~20,000 page reads) and hour rollups only at its
    edges. Day counters equal the sum of their hours (`queries.rollups` adds the hours not
    yet compacted), so totals are the same either way. A series (`series=True`) must map
    each day row into one display bucket: only day buckets that are UTC days (a zero UTC
    offset throughout) qualify; other series read hours as before.
    """
    if w.source != "h":
        return [(w.source, w.start, w.end)]
    d0 = floor_utc(w.start, "day")
    if d0 < w.start:
        d0 += timedelta(days=1)
    d1 = floor_utc(w.end, "day")
    if d1 <= d0:
        return [("h", w.start, w.end)]
    if series and not (w.grain == "day" and all(
            (d.astimezone(w.tz).utcoffset() or timedelta(0)) == timedelta(0)
            for d in _days(d0, d1))):
        return [("h", w.start, w.end)]
    parts = [("h", w.start, d0)] if w.start < d0 else []
    parts.append(("d", d0, d1))
    if d1 < w.end:
        parts.append(("h", d1, w.end))
    return parts


def _days(d0: datetime, d1: datetime) -> Iterable[datetime]:
    """Every UTC midnight from d0 to d1, both included."""
    d = d0
    while d <= d1:
        yield d
        d += timedelta(days=1)


def offset_changes(w: Window) -> list[tuple[datetime, timedelta]]:
    """The viewer's UTC offset over the window: [(from, offset), …] in order, the first
    from the window's start (a zone changes offset at most a few times a year)."""
    def off(at: datetime) -> timedelta:
        return at.astimezone(w.tz).utcoffset() or timedelta(0)

    out = [(w.start, off(w.start))]
    day = timedelta(days=1)
    a = w.start
    while a < w.end:
        b = min(a + day, w.end)
        if off(b) != out[-1][1]:  # a change in (a, b]: find its hour (or minute)
            t = a
            while off(t) == out[-1][1]:
                t += timedelta(minutes=15)
            out.append((t, off(t)))
        a = b
    return out


def display_label(bucket: datetime, w: Window) -> str:
    """Short label for tables and charts: '2026-12-06' for days, '12-06 14:00' otherwise."""
    if w.grain == "day":
        return label(bucket, w)
    return bucket.astimezone(w.tz).strftime("%m-%d %H:%M")


# ------------------------------------------------------------------ derived metrics


@dataclass(frozen=True, slots=True)
class Ratio:
    """A rate with its parts (None when the denominator is zero)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def derived(totals: Mapping[str, int], scope: str, spend: Mapping[str, int] | None = None,
            ) -> dict[str, object]:
    """CTR, read rate, follow rate, conversion rate, net follows, dwell, cost per result.

    `totals` holds count metrics; `spend` (promotions only) maps currency → minor units.
    Follow rate is per profile visit for account scopes and per impression otherwise.
    """
    t = {k: int(totals.get(k, 0)) for k in COUNT_METRICS}
    follow_den = t["profile_visits"] if scope in ("account", "platform") else t["impressions"]
    out: dict[str, object] = {
        "ctr": Ratio(t["clicks"], t["impressions"]),
        "read_rate": Ratio(t["reads"], t["impressions"]),
        "follow_rate": Ratio(t["follows"], follow_den),
        "conversion_rate": Ratio(t["orders"], t["clicks"]),
        "net_follows": t["follows"] - t["unfollows"],
        "avg_dwell_ms": (t["dwell_ms"] // t["reads"]) if t["reads"] else None,
    }
    if spend is not None:
        results = t[RESULT_METRIC]
        out["cost_per_result"] = {cur: (amount // results if results else None)
                                  for cur, amount in sorted(spend.items())}
    return out


# ------------------------------------------------------------------ display


def minor_digits(currency: str) -> int:
    """Decimal places of a currency's minor unit (ISO 4217; 2 unless listed)."""
    return {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3}.get(currency, 2)


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """'¥1,234.50' / 'CN¥1,234.50' in the viewer's locale, from exact minor units."""
    value = Decimal(amount_minor).scaleb(-minor_digits(currency))
    return str(format_currency(value, currency, locale=locale.replace("-", "_")))


def format_count(n: int, locale: str) -> str:
    """A count with the locale's grouping."""
    return str(format_decimal(n, locale=locale.replace("-", "_")))


def format_rate(r: Ratio, locale: str) -> str:
    """A rate as a percentage with two decimals, '–' when undefined."""
    v = r.value
    if v is None:
        return "–"
    return str(format_percent(v, "#,##0.00%", locale=locale.replace("-", "_")))


# ------------------------------------------------------------------ CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    s = str(value)
    if s and s.startswith(_FORMULA_START) and not _NUMBER.fullmatch(s):
        return "'" + s
    return s


def csv_rows(rows: Iterable[Iterable[object]]) -> list[list[str]]:
    """Every cell neutralised with `csv_cell`."""
    return [[csv_cell(v) for v in row] for row in rows]


def filename_part(s: str) -> str:
    """A safe ASCII fragment of a download file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-")[:60] or "report"


def default_chart_metric(metrics: Sequence[str], counts: Mapping[str, int]) -> str:
    """The metric a report's chart shows first: buy clicks when the window has any (the
    commerce signal), else the count metric with the largest total (impressions, usually),
    so a creator without clicks yet does not open on a flat line."""
    if not metrics:
        return ""
    if counts.get("clicks", 0) > 0 and "clicks" in metrics:
        return "clicks"
    best = max(metrics, key=lambda m: counts.get(m, 0))
    if counts.get(best, 0) > 0:
        return best
    return "clicks" if "clicks" in metrics else metrics[0]
