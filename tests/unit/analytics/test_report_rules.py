"""Pure report rules: grains, windows, viewer-local buckets, derived metrics, CSV cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopwindow.analytics import report_rules as rr
from shopwindow.core.errors import Invalid

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("span", "grain"), [
    (timedelta(minutes=30), "minute"), (timedelta(hours=3), "minute"),
    (timedelta(hours=3, minutes=1), "hour"), (timedelta(days=7), "hour"),
    (timedelta(days=7, seconds=1), "day"), (timedelta(days=90), "day")])
def test_auto_grain_follows_the_range(span: timedelta, grain: str) -> None:
    w = rr.make_window(start=NOW - span, end=NOW, grain=None, tz=UTC_ZONE, now=NOW)
    assert rr.auto_grain(span) == grain and w.grain == grain


UTC_ZONE = ZoneInfo("UTC")


def test_evening_utc_event_lands_on_the_next_local_day_at_utc_plus_8() -> None:
    w = rr.make_window(start=datetime(2026, 12, 1, tzinfo=UTC), end=NOW, grain="day",
                       tz=SHANGHAI, now=NOW)
    assert w.source == "h" and w.day_basis == "local"
    # the window starts at local midnight of Dec 1 = Nov 30 16:00 UTC
    assert w.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    event_hour = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    b = rr.bucket_of(event_hour, w)
    assert rr.label(b, w) == "2026-12-04"
    assert rr.label(rr.bucket_of(datetime(2026, 12, 3, 15, 0, tzinfo=UTC), w), w) == \
        "2026-12-03"
    labels = [rr.label(x, w) for x in rr.buckets(w)]
    assert labels[0] == "2026-12-01" and labels[-1] == "2026-12-06"
    assert len(labels) == len(set(labels)) == 6


def test_hour_buckets_are_labelled_in_the_viewers_zone() -> None:
    w = rr.make_window(start=NOW - timedelta(hours=5), end=NOW, grain=None, tz=SHANGHAI,
                       now=NOW)
    assert w.grain == "hour"
    assert rr.label(w.start, w) == "2026-12-06T06:00+08:00"
    assert rr.display_label(w.start, w) == "12-06 06:00"


def test_local_days_across_a_dst_change_have_23_and_25_hours() -> None:
    now = datetime(2026, 11, 10, tzinfo=UTC)
    w = rr.make_window(start=datetime(2026, 10, 31, 12, tzinfo=UTC),
                       end=datetime(2026, 11, 3, 12, tzinfo=UTC), grain="day", tz=NEW_YORK,
                       now=now)
    bs = rr.buckets(w)
    assert [rr.label(b, w) for b in bs] == ["2026-10-31", "2026-11-01", "2026-11-02",
                                            "2026-11-03"]
    # Nov 1 2026 is the fall-back day in New York: 25 hours long
    assert bs[2] - bs[1] == timedelta(hours=25) and bs[1] - bs[0] == timedelta(hours=24)


def test_old_ranges_use_utc_day_rollups_and_say_so() -> None:
    start = NOW - timedelta(days=200)
    w = rr.make_window(start=start, end=NOW - timedelta(days=150), grain=None, tz=SHANGHAI,
                       now=NOW)
    assert (w.grain, w.source, w.day_basis) == ("day", "d", "utc")
    assert w.start == datetime.combine(start.date(), datetime.min.time(), UTC)
    # a UTC-zone viewer's UTC days are their local days
    w2 = rr.make_window(start=start, end=NOW, grain="day", tz=UTC_ZONE, now=NOW)
    assert (w2.source, w2.day_basis) == ("d", "local")


@pytest.mark.parametrize(("kw", "field", "rule"), [
    ({"start": NOW, "end": NOW - timedelta(hours=1)}, "from", "before_to"),
    ({"grain": "week"}, "grain", "one_of"),
    ({"grain": "minute", "start": NOW - timedelta(days=3)}, "grain", "minute_horizon"),
    ({"grain": "hour", "start": NOW - timedelta(days=100)}, "grain", "hour_horizon"),
    ({"grain": "minute", "start": NOW - timedelta(hours=30)}, "grain", "max_span:minute"),
])
def test_bad_windows_name_the_field(kw: dict, field: str, rule: str) -> None:
    args = {"start": NOW - timedelta(hours=1), "end": NOW, "grain": None, "tz": UTC_ZONE,
            "now": NOW, **kw}
    with pytest.raises(Invalid) as e:
        rr.make_window(**args)
    assert (e.value.field, e.value.rule) == (field, rule)


def test_auto_grain_falls_back_past_the_minute_horizon() -> None:
    start = NOW - timedelta(days=5)
    w = rr.make_window(start=start, end=start + timedelta(hours=2), grain=None, tz=UTC_ZONE,
                       now=NOW)
    assert (w.grain, w.source) == ("hour", "h")


@pytest.mark.parametrize("raw", ["Mars/Olympus", "../../etc/passwd", "", "x" * 80, "UTC;"])
def test_unknown_time_zones_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as e:
        rr.parse_tz(raw, default="")
    assert e.value.field == "tz"


def test_instants_dates_are_local_midnights() -> None:
    assert rr.parse_instant("2026-12-04", SHANGHAI, "from") == \
        datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert rr.parse_instant("2026-12-04T10:00:00Z", SHANGHAI, "to") == \
        datetime(2026, 12, 4, 10, tzinfo=UTC)
    with pytest.raises(Invalid) as e:
        rr.parse_instant("yesterday", SHANGHAI, "to")
    assert (e.value.field, e.value.rule) == ("to", "iso8601")


def test_derived_metrics_by_hand() -> None:
    totals = {"impressions": 400, "reads": 100, "clicks": 20, "orders": 3,
              "profile_visits": 50, "follows": 5, "unfollows": 2, "dwell_ms": 250_000}
    d = rr.derived(totals, "account")
    assert d["ctr"] == rr.Ratio(20, 400) and d["ctr"].value == 0.05  # type: ignore[union-attr]
    assert d["read_rate"] == rr.Ratio(100, 400)
    assert d["follow_rate"] == rr.Ratio(5, 50)  # per profile visit for accounts
    assert d["conversion_rate"] == rr.Ratio(3, 20)
    assert d["net_follows"] == 3 and d["avg_dwell_ms"] == 2500
    assert "cost_per_result" not in d
    post = rr.derived(totals, "post")
    assert post["follow_rate"] == rr.Ratio(5, 400)  # per impression for content
    promo = rr.derived(totals, "promotion", {"CNY": 10_000})
    assert promo["cost_per_result"] == {"CNY": 500}


def test_rates_with_nothing_to_divide_are_undefined() -> None:
    d = rr.derived({}, "account")
    assert d["ctr"].value is None  # type: ignore[union-attr]
    assert rr.format_rate(d["ctr"], "en") == "–"  # type: ignore[arg-type]
    assert d["avg_dwell_ms"] is None
    assert rr.derived({}, "promotion", {"CNY": 100})["cost_per_result"] == {"CNY": None}


def test_money_is_formatted_from_minor_units_per_locale() -> None:
    assert rr.format_money(123450, "CNY", "en") == "CN¥1,234.50"
    assert rr.format_money(123450, "CNY", "zh-CN") == "¥1,234.50"
    assert rr.format_money(500, "JPY", "en") == "¥500"
    assert rr.format_rate(rr.Ratio(1, 8), "en") == "12.50%"


@pytest.mark.parametrize(("raw", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("plain", "plain"),
    (-5, "-5"), ("-12.50", "-12.50"), (None, "")])
def test_csv_cells_cannot_become_formulas(raw: object, cell: str) -> None:
    assert rr.csv_cell(raw) == cell


@given(st.text(max_size=30))
def test_csv_cell_never_starts_a_formula(s: str) -> None:
    out = rr.csv_cell(s)
    assert not out.startswith(("=", "+", "@", "\t", "\r")) or out.startswith("'")
    assert not out.startswith("-") or out.startswith("'") or rr._NUMBER.fullmatch(out)


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["Asia/Shanghai", "America/New_York", "Asia/Kolkata", "UTC"]))
def test_every_instant_falls_in_exactly_one_local_day(dt: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    now = dt + timedelta(days=3)  # within the hour horizon: local days
    w = rr.make_window(start=dt - timedelta(days=2), end=dt + timedelta(days=2), grain="day",
                       tz=tz, now=now)
    b = rr.floor_local(dt, "day", tz)
    assert w.day_basis == "local" and b in rr.buckets(w)
    assert b <= dt < rr.next_bucket(b, "day", tz)
    assert rr.label(b, w) == dt.astimezone(tz).date().isoformat()


@given(st.lists(st.tuples(st.integers(0, 24 * 6 - 1), st.integers(1, 1000)), max_size=40),
       st.sampled_from(["Asia/Shanghai", "America/Los_Angeles", "Europe/London",
                        "Pacific/Kiritimati", "America/St_Johns"]))
def test_hour_rollups_regroup_into_local_days_without_loss(rows: list[tuple[int, int]],
                                                           zone: str) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2026, 3, 5, tzinfo=UTC)  # spans the US DST change on March 8
    w = rr.make_window(start=start, end=start + timedelta(days=5), grain="day", tz=tz,
                       now=start + timedelta(days=6))
    per_day: dict[str, int] = {}
    for h, v in rows:
        bucket = start + timedelta(hours=h)
        if not w.start <= bucket < w.end:
            continue
        key = rr.label(rr.bucket_of(bucket, w), w)
        per_day[key] = per_day.get(key, 0) + v
    labels = {rr.label(b, w) for b in rr.buckets(w)}
    assert set(per_day) <= labels
    # the same sums computed the obvious way: the local calendar date of each hour
    naive: dict[str, int] = {}
    for h, v in rows:
        bucket = start + timedelta(hours=h)
        if w.start <= bucket < w.end:
            d = bucket.astimezone(tz).date().isoformat()
            naive[d] = naive.get(d, 0) + v
    assert per_day == naive


def test_half_hour_zones_read_minute_rollups_while_they_can() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    w = rr.make_window(start=NOW - timedelta(hours=24), end=NOW, grain=None, tz=kolkata,
                       now=NOW)
    assert (w.grain, w.source) == ("hour", "m")
    assert rr.label(w.start, w).endswith(":00+05:30")  # local hours start at :00 …
    assert w.start.minute == 30  # … which is :30 UTC
    # a 12:10 UTC minute is 17:40 local: in the 17:00 local hour
    b = rr.bucket_of(datetime(2026, 12, 5, 12, 10, tzinfo=UTC), w)
    assert rr.label(b, w) == "2026-12-05T17:00+05:30"
    # older ranges fall back to hour rollups; whole-hour zones always use them
    old = rr.make_window(start=NOW - timedelta(days=5), end=NOW - timedelta(days=4),
                         grain="hour", tz=kolkata, now=NOW)
    assert old.source == "h"
    assert rr.make_window(start=NOW - timedelta(hours=24), end=NOW, grain=None, tz=SHANGHAI,
                          now=NOW).source == "h"


def test_default_chart_metric_prefers_clicks_then_the_largest_count() -> None:
    metrics = ["impressions", "reads", "clicks", "orders"]
    assert rr.default_chart_metric(metrics, {"impressions": 50, "clicks": 1}) == "clicks"
    assert rr.default_chart_metric(metrics, {"impressions": 5, "reads": 9}) == "reads"
    assert rr.default_chart_metric(metrics, {}) == "clicks"
    assert rr.default_chart_metric(["impressions", "reads"], {}) == "impressions"
    assert rr.default_chart_metric(["reads"], {"clicks": 3}) == "reads"
    assert rr.default_chart_metric([], {"clicks": 3}) == ""


def test_source_parts_read_whole_utc_days_from_day_rows_and_hours_at_the_edges() -> None:
    now = datetime(2026, 12, 6, 15, 20, tzinfo=UTC)
    d = datetime(2026, 12, 1, tzinfo=UTC)
    w = rr.make_window(start=d + timedelta(hours=5), end=now, grain="hour", tz=UTC_ZONE,
                       now=now)
    assert w.source == "h"
    assert rr.source_parts(w, series=False) == [
        ("h", d + timedelta(hours=5), d + timedelta(days=1)),
        ("d", d + timedelta(days=1), d + timedelta(days=5)),
        ("h", d + timedelta(days=5), datetime(2026, 12, 6, 16, tzinfo=UTC))]
    # an hour series must show hours; so must a day series whose days are not UTC days
    assert rr.source_parts(w, series=True) == [("h", w.start, w.end)]
    shanghai = rr.make_window(start=now - timedelta(days=30), end=now, grain="day",
                              tz=SHANGHAI, now=now)
    assert rr.source_parts(shanghai, series=True) == [("h", shanghai.start, shanghai.end)]
    assert [p[0] for p in rr.source_parts(shanghai, series=False)] == ["h", "d", "h"]
    # UTC days: the series reads one row a day, today's partial day included
    utc = rr.make_window(start=now - timedelta(days=30), end=now, grain="day", tz=UTC_ZONE,
                         now=now)
    assert rr.source_parts(utc, series=True) == [("d", utc.start, utc.end)]
    # London is at UTC+1 in summer: its summer days are not UTC days
    london = ZoneInfo("Europe/London")
    winter = rr.make_window(start=now - timedelta(days=20), end=now, grain="day", tz=london,
                            now=now)
    assert rr.source_parts(winter, series=True) == [("d", winter.start, winter.end)]
    summer_now = datetime(2026, 11, 3, 12, tzinfo=UTC)
    across = rr.make_window(start=summer_now - timedelta(days=20), end=summer_now, grain="day",
                            tz=london, now=summer_now)
    assert rr.source_parts(across, series=True) == [("h", across.start, across.end)]


def test_source_parts_leave_short_and_other_sources_alone() -> None:
    now = datetime(2026, 12, 6, 15, 20, tzinfo=UTC)
    within_a_day = rr.make_window(start=now - timedelta(hours=20), end=now, grain="hour",
                                  tz=UTC_ZONE, now=now)
    assert rr.source_parts(within_a_day, series=False) == [
        ("h", within_a_day.start, within_a_day.end)]
    minutes = rr.make_window(start=now - timedelta(hours=2), end=now, grain=None, tz=UTC_ZONE,
                             now=now)
    assert rr.source_parts(minutes, series=False) == [("m", minutes.start, minutes.end)]
    old = rr.make_window(start=now - timedelta(days=200), end=now - timedelta(days=100),
                         grain="day", tz=UTC_ZONE, now=now)
    assert old.source == "d"
    assert rr.source_parts(old, series=True) == [("d", old.start, old.end)]


def test_offset_changes_find_the_instant_of_a_dst_change() -> None:
    now = datetime(2026, 3, 20, tzinfo=UTC)
    w = rr.make_window(start=datetime(2026, 3, 1, tzinfo=UTC), end=now, grain="day",
                       tz=NEW_YORK, now=now)
    assert rr.offset_changes(w) == [(w.start, timedelta(hours=-5)),
                                    (datetime(2026, 3, 8, 7, tzinfo=UTC), timedelta(hours=-4))]
    shanghai = rr.make_window(start=datetime(2026, 3, 1, tzinfo=UTC), end=now, grain="day",
                              tz=SHANGHAI, now=now)
    assert rr.offset_changes(shanghai) == [(shanghai.start, timedelta(hours=8))]
