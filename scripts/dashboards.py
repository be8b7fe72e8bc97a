#!/usr/bin/env python3
"""Writes the Grafana dashboards in grafana/dashboards/ from the panel definitions below.

Run it after changing a panel: `python3 scripts/dashboards.py`. The test suite runs it with --check and fails
when the committed JSON differs from what it generates, so the files and this script never drift.

Every query is InfluxQL (works on InfluxDB 1.x, 2.x through its DBRP mapping, and 3.x) against the schema in
docs/schema.md. Daily values are grouped in the dashboard's time-zone variable `$tz`, which defaults to the
selected person's own zone (measurement `person`); `$user` picks the person.
"""

import json
import sys
from pathlib import Path

DATASOURCE = {"type": "influxdb", "uid": "fitbit-influxdb"}
OUT = Path(__file__).resolve().parent.parent / "grafana" / "dashboards"
USER = "\"user\" = '$user'"
TZ = "tz('$tz')"


def daily(fill="none"):
    """Daily buckets in the dashboard's time zone. InfluxQL wants tz() last, after fill()."""
    return f"GROUP BY time(1d) fill({fill}) {TZ}"

# The dashboards' zone variable: the selected person's time zone, as the daemon last wrote it.
TZ_QUERY = "SELECT last(\"time_zone\") FROM \"person\" WHERE \"user\" = '$user'"
# The first day of the selected person's history (local midnight, Unix seconds): per-day statistics
# start there, so the days before the account are not counted as days without steps.
SINCE_QUERY = "SELECT last(\"history_start_epoch_s\") FROM \"person\" WHERE \"user\" = '$user'"
SINCE = "time >= ${since}s"

ZONES = ["Europe/Berlin", "Europe/London", "Europe/Paris", "Europe/Madrid", "Europe/Zurich", "Europe/Vienna",
         "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Asia/Tokyo",
         "Australia/Sydney", "UTC"]


def target(query, ref="A", fmt="time_series", alias=None):
    t = {"refId": ref, "datasource": DATASOURCE, "rawQuery": True, "query": query, "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


def panel(kind, title, targets, x, y, w, h, unit=None, options=None, custom=None, thresholds=None,
          decimals=None, description=None, transformations=None, overrides=None, time_from=None,
          time_shift=None, mappings=None):
    defaults = {}
    if unit:
        defaults["unit"] = unit
    if decimals is not None:
        defaults["decimals"] = decimals
    if custom:
        defaults["custom"] = custom
    if thresholds:
        defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
    if mappings:
        defaults["mappings"] = mappings
    p = {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options or {},
    }
    # Panel time overrides, as Grafana applies them: timeFrom replaces the range ("now/d": today so
    # far), timeShift moves it back ("1d/d": the same number of whole days, ending yesterday).
    if time_from:
        p["timeFrom"] = time_from
    if time_shift:
        p["timeShift"] = time_shift
    if description:
        p["description"] = description
    if transformations:
        p["transformations"] = transformations
    return p


def unit_of(column, unit):
    """A field override: `column` shown in `unit` (e.g. epoch milliseconds as a date and time)."""
    return {"matcher": {"id": "byName", "options": column}, "properties": [{"id": "unit", "value": unit}]}


def unstacked_line(column):
    """A field override: `column` drawn as a line over the stacked bars (a total, not a part)."""
    return {"matcher": {"id": "byName", "options": column}, "properties": [
        {"id": "custom.stacking", "value": {"mode": "none", "group": "A"}},
        {"id": "custom.drawStyle", "value": "line"}, {"id": "custom.fillOpacity", "value": 0},
        {"id": "custom.lineWidth", "value": 2}]}


def stat(title, query, x, y, unit=None, decimals=None, description=None, time_from=None):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "none", "textMode": "value"}
    return panel("stat", title, [target(query)], x, y, 6, 4, unit=unit, options=options, decimals=decimals,
                 thresholds=[{"color": "blue", "value": None}], description=description, time_from=time_from)


def series(title, targets, x, y, w=12, h=8, unit=None, bars=False, stacked=False, thresholds=None,
           description=None, overrides=None):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1, "fillOpacity": 80 if bars else 10,
              "spanNulls": True, "showPoints": "never" if not bars else "auto"}
    if stacked:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    if thresholds:
        custom["thresholdsStyle"] = {"mode": "line"}
    options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "none"}}
    return panel("timeseries", title, targets, x, y, w, h, unit=unit, custom=custom, options=options,
                 thresholds=thresholds, description=description, overrides=overrides)


def table(title, query, x, y, w=24, h=8, unit=None, description=None, overrides=None):
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    return panel("table", title, [target(query, fmt="table")], x, y, w, h, unit=unit, options=options,
                 description=description, overrides=overrides)


def pie(title, targets, x, y, unit=None, description=None):
    """A pie over whole days that are over: the dashboard's number of days, ending yesterday."""
    options = {"reduceOptions": {"calcs": ["sum"], "fields": "", "values": False}, "pieType": "pie",
               "legend": {"displayMode": "table", "placement": "right", "showLegend": True, "values": ["value", "percent"]},
               "tooltip": {"mode": "single", "sort": "none"}}
    return panel("piechart", title, targets, x, y, 12, 9, unit=unit, options=options, description=description,
                 time_shift="1d/d")


def dashboard(uid, title, panels, days=30, variables=()):
    """A dashboard showing the last `days` whole days (day-aligned, so daily buckets are complete), with
    the person, zone and first-day variables and any of its own after them."""
    for i, p in enumerate(panels, start=1):
        p["id"] = i
    return {
        "uid": uid,
        "title": title,
        "tags": ["fitbit-influx"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 41,
        "version": 1,
        "refresh": "15m",
        "time": {"from": f"now-{days}d/d", "to": "now/d"},
        "links": [{"title": "Fitbit", "type": "dashboards", "tags": ["fitbit-influx"], "asDropdown": True,
                   "includeVars": True, "keepTime": True, "icon": "external link", "targetBlank": False,
                   "tooltip": "", "url": ""}],
        "templating": {"list": [
            {
                "type": "query", "name": "user", "label": "Person",
                "datasource": DATASOURCE,
                "query": "SHOW TAG VALUES FROM \"steps_daily\" WITH KEY = \"user\"",
                "refresh": 1, "sort": 1, "multi": False, "includeAll": False,
                "current": {"text": "me", "value": "me"}, "options": [],
            },
            {
                # The person's own zone first (the daemon writes it from the account's settings into
                # "person"), then a few common ones; any other IANA zone can be typed in. No saved
                # current value: Grafana takes the first option, the person's zone, on every load.
                "type": "query", "name": "tz", "label": "Time zone",
                "datasource": DATASOURCE,
                "query": TZ_QUERY,
                "refresh": 1, "sort": 0, "multi": False, "includeAll": False, "allowCustomValue": True,
                "staticOptions": [{"text": z, "value": z} for z in ZONES], "staticOptionsOrder": "after",
                "current": {"text": "", "value": ""}, "options": [],
            },
            {
                "type": "query", "name": "since", "label": "History starts", "hide": 2,
                "datasource": DATASOURCE,
                "query": SINCE_QUERY,
                "refresh": 1, "sort": 0, "multi": False, "includeAll": False,
                "current": {"text": "", "value": ""}, "options": [],
            },
            *variables,
        ]},
        "panels": panels,
    }


def overview():
    return dashboard("fitbit-overview", "Fitbit: overview", [
        stat("Steps today", f"SELECT last(\"count\") FROM \"steps_daily\" WHERE $timeFilter AND {USER}", 0, 0,
             unit="none", time_from="now/d",
             description="Today's steps (the day's total from the daily rollup); no data until today's first sync."),
        # Latest values however old (a scale stepped on last month still has a weight to show).
        stat("Resting heart rate", f"SELECT last(\"bpm\") FROM \"resting_heart_rate\" WHERE {USER}",
             6, 0, unit="bpm"),
        stat("Last night's sleep",
             f"SELECT sum(\"minutes_asleep\") FROM \"sleep\" WHERE $timeFilter AND {USER} AND \"main_sleep\" = true GROUP BY time(1d) {TZ}",
             12, 0, unit="m", description="Minutes asleep in the main sleep that ended on the latest day."),
        stat("Weight", f"SELECT last(\"kg\") FROM \"weight\" WHERE {USER}", 18, 0, unit="kg",
             decimals=1),
        table("Devices",
              "SELECT last(\"battery_pct\") AS \"battery %\", last(\"last_sync_epoch_s\") * 1000 AS \"last sync\" "
              f"FROM \"device\" WHERE $timeFilter AND {USER} GROUP BY \"device\"",
              0, 4, h=6, overrides=[unit_of("last sync", "dateTimeAsIso"), unit_of("Time", "dateTimeAsIso")],
              description="Battery and last sync of every paired device, as of the latest poll."),
        series("Steps per day", [target(f"SELECT sum(\"count\") FROM \"steps_daily\" WHERE $timeFilter AND {USER} {daily()}", alias="steps")],
               0, 10, w=24, bars=True, unit="none"),
    ], days=7)


def heart():
    # The 30-day baseline needs the 30 days before the range too: its own time filter.
    baseline_range = "time >= ${__from}ms - 30d AND time <= ${__to}ms"
    return dashboard("fitbit-heart", "Fitbit: heart", [
        series("Heart rate", [target(
            "SELECT mean(\"bpm\") AS \"mean\", min(\"bpm\") AS \"min\", max(\"bpm\") AS \"max\" FROM \"heart_rate\" "
            f"WHERE $timeFilter AND {USER} GROUP BY time($__interval) fill(none)")],
            0, 0, w=24, unit="bpm", description="Every sample, aggregated to the panel's resolution: mean with the min-max band.",
            overrides=[{"matcher": {"id": "byName", "options": "min"}, "properties": [
                {"id": "custom.fillBelowTo", "value": "max"}, {"id": "custom.lineWidth", "value": 0}]},
                {"matcher": {"id": "byName", "options": "max"}, "properties": [
                    {"id": "custom.lineWidth", "value": 0}, {"id": "custom.fillOpacity", "value": 0}]}]),
        series("Resting heart rate", [
            target(f"SELECT last(\"bpm\") AS \"resting\" FROM \"resting_heart_rate\" WHERE $timeFilter AND {USER} {daily()}"),
            target(f"SELECT moving_average(last(\"bpm\"), 30) AS \"30-day baseline\" FROM \"resting_heart_rate\" "
                   f"WHERE {baseline_range} AND {USER} {daily()}", "B")],
            0, 8, unit="bpm", description="The baseline is the mean of the 30 latest days with a value."),
        series("Heart-rate variability", [target(f"SELECT last(\"avg_ms\") FROM \"hrv_daily\" WHERE $timeFilter AND {USER} {daily()}", alias="HRV")],
               12, 8, unit="ms", description="The night's average RMSSD, on the day the night ends."),
        series("Time in heart-rate zones", [target(
            "SELECT sum(\"light_s\") / 60 AS \"light\", sum(\"moderate_s\") / 60 AS \"moderate\", "
            "sum(\"vigorous_s\") / 60 AS \"vigorous\", sum(\"peak_s\") / 60 AS \"peak\" "
            f"FROM \"heart_zone_time_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            0, 16, w=24, unit="m", bars=True, stacked=True),
        series("Blood oxygen (SpO2) per night", [target(
            "SELECT last(\"avg_pct\") AS \"average\", last(\"min_pct\") AS \"low\", last(\"max_pct\") AS \"high\" "
            f"FROM \"spo2_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            0, 24, w=8, unit="percent"),
        series("Breathing rate per night", [target(
            f"SELECT last(\"brpm\") AS \"breaths/min\" FROM \"respiratory_rate_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            8, 24, w=8, unit="none"),
        series("VO2 max (cardio fitness)", [target(
            f"SELECT last(\"vo2max\") AS \"VO2 max\" FROM \"vo2max_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            16, 24, w=8, unit="none", description="ml/kg/min."),
    ])


STAGE_COLOURS = {"awake": "red", "rem": "light-blue", "light": "blue", "deep": "dark-blue", "asleep": "blue",
                 "restless": "orange"}


# The hypnogram's night: its 24 hours end this many days before now (the panel's time shift).
NIGHTS = [("last night", "0d")] + [(f"{n} night{'s' if n > 1 else ''} before", f"{n}d") for n in range(1, 14)]
NIGHT_VARIABLE = {
    "type": "custom", "name": "night", "label": "Hypnogram night",
    "query": ",".join(f"{text} : {value}" for text, value in NIGHTS),
    "multi": False, "includeAll": False,
    "current": {"text": NIGHTS[0][0], "value": NIGHTS[0][1]},
    "options": [{"text": t, "value": v, "selected": i == 0} for i, (t, v) in enumerate(NIGHTS)],
}


def sleep():
    main = "\"main_sleep\" = true"
    return dashboard("fitbit-sleep", "Fitbit: sleep", variables=[NIGHT_VARIABLE], panels=[
        series("Sleep stages per night", [target(
            "SELECT sum(\"minutes_deep\") AS \"deep\", sum(\"minutes_light\") AS \"light\", sum(\"minutes_rem\") AS \"rem\", "
            f"sum(\"minutes_asleep\") AS \"total asleep\" FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main} {daily()}")],
            0, 0, w=18, unit="m", bars=True, stacked=True, overrides=[unstacked_line("total asleep")],
            description="The main sleep of each night, on the day it ends; time awake and naps are in their own panel."),
        series("Sleep score", [target(
            f"SELECT last(\"overall\") AS \"score\" FROM \"sleep_score\" WHERE $timeFilter AND {USER} {daily()}")],
            18, 0, w=6, unit="none", bars=True,
            description="The night's sleep score, on the day it ends. The API has none: it comes from an "
                        "imported archive (fitbit-influx import), so it stops at the archive's last night."),
        panel("state-timeline", "Hypnogram of the night picked above", [target(
            f"SELECT \"stage\"::tag AS \"stage\", \"duration_s\" FROM \"sleep_stage\" WHERE $timeFilter AND {USER}", fmt="table")],
            0, 8, 24, 5, time_from="24h", time_shift="$night",
            options={"showValue": "never", "mergeValues": True, "rowHeight": 0.9, "alignValue": "left",
                     "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                     "tooltip": {"mode": "single", "sort": "none"}},
            mappings=[{"type": "value", "options": {k: {"color": c, "index": i, "text": k}
                                                     for i, (k, c) in enumerate(STAGE_COLOURS.items())}}],
            transformations=[{"id": "organize", "options": {"excludeByName": {"duration_s": True}}}],
            description="Each stage from its start until the next, over the 24 hours ending now (last night) or "
                        "the chosen number of days before."),
        series("Awake and naps", [target(
            f"SELECT sum(\"minutes_awake\") AS \"awake in the night\" FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main} {daily()}"),
            target(f"SELECT sum(\"minutes_asleep\") AS \"naps\" FROM \"sleep\" WHERE $timeFilter AND {USER} AND \"nap\" = true {daily()}", "B")],
            0, 13, unit="m", bars=True),
        series("Total sleep per day (all sessions)", [target(
            f"SELECT sum(\"minutes_asleep\") FROM \"sleep\" WHERE $timeFilter AND {USER} {daily()}", alias="asleep")],
            12, 13, unit="m", bars=True, description="Every session that ended that day, naps included."),
        series("Sleep efficiency", [target(
            f"SELECT mean(\"efficiency\") FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main} {daily()}", alias="efficiency")],
            0, 21, unit="percent"),
        series("Sleep temperature deviation", [target(
            f"SELECT last(\"deviation_c\") FROM \"sleep_temperature\" WHERE $timeFilter AND {USER} {daily()}", alias="deviation")],
            12, 21, unit="celsius", description="Nightly minus personal baseline; absent while the baseline forms."),
        table("Bed and wake times",
              "SELECT \"start_epoch_s\" * 1000 AS \"bedtime\", \"duration_s\" AS \"time in bed\", \"minutes_asleep\" AS \"asleep\" "
              f"FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main}",
              0, 29, w=24, overrides=[unit_of("Time", "dateTimeAsIso"), unit_of("bedtime", "dateTimeAsIso"),
                                      unit_of("time in bed", "dtdurations"), unit_of("asleep", "m")],
              description="Time is the wake-up; bedtime is when the session started: how regular the nights are."),
        series("Bedtime and wake-up", [target(
            "SELECT last(\"bedtime_min\") / 60 AS \"bedtime\", last(\"wake_min\") / 60 AS \"wake-up\" "
            f"FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main} {daily()}")],
            0, 37, w=18, h=8, unit="none",
            description="Hours from midnight on the clock, per night of the main sleep: -1 is 23:00 the evening "
                        "before, 7.5 is 07:30. Flat lines are regular nights."),
        stat("Bedtime spread",
             f"SELECT stddev(\"bedtime_min\") FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main}",
             18, 37, unit="m", decimals=0,
             description="Standard deviation of the bedtime over the range: how much it moves night to night."),
        stat("Wake-up spread",
             f"SELECT stddev(\"wake_min\") FROM \"sleep\" WHERE $timeFilter AND {USER} AND {main}",
             18, 41, unit="m", decimals=0,
             description="Standard deviation of the wake-up time over the range."),
    ])


LEVELS = {"sedentary": "sedentary", "lightly_active": "lightly active", "moderately_active": "fairly active",
          "very_active": "very active"}


def activity():
    steps_per_day = (f"SELECT sum(\"count\") AS \"s\" FROM \"steps_daily\" WHERE $timeFilter AND {SINCE} AND {USER} "
                     f"{daily(0)}")
    return dashboard("fitbit-activity", "Fitbit: activity", [
        series("Steps per day", [target(f"SELECT sum(\"count\") FROM \"steps_daily\" WHERE $timeFilter AND {USER} {daily()}", alias="steps")],
               0, 0, w=24, bars=True, unit="none",
               thresholds=[{"color": "red", "value": None}, {"color": "yellow", "value": 500}, {"color": "green", "value": 10000}],
               description="Lines at 500 (below: a low day) and 10,000 steps."),
        pie("Days by activity level", [
            target(f"SELECT count(\"s\") FROM ({steps_per_day}) WHERE \"s\" = 0", "A", alias="not worn (0 steps)"),
            target(f"SELECT count(\"s\") FROM ({steps_per_day}) WHERE \"s\" > 0 AND \"s\" < 500", "B", alias="low (< 500)"),
            target(f"SELECT count(\"s\") FROM ({steps_per_day}) WHERE \"s\" >= 500 AND \"s\" <= 10000", "C", alias="normal (500-10,000)"),
            target(f"SELECT count(\"s\") FROM ({steps_per_day}) WHERE \"s\" > 10000", "D", alias="high (> 10,000)"),
        ], 0, 8, unit="none",
            description="Whole days that are over, from the first day of the history on; today is left out."),
        pie("Time by intensity", [target(
            f"SELECT sum(\"duration_s\") / 60 FROM \"activity_level\" WHERE $timeFilter AND {USER} AND \"level\" = '{level}'",
            chr(ord("A") + i), alias=label) for i, (level, label) in enumerate(LEVELS.items())], 12, 8, unit="m",
            description="Whole days that are over; today is left out."),
        series("Active minutes per day", [target(
            "SELECT sum(\"light\") AS \"lightly active\", sum(\"moderate\") AS \"fairly active\", "
            f"sum(\"vigorous\") AS \"very active\" FROM \"active_minutes_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            0, 17, bars=True, stacked=True, unit="m"),
        series("Active Zone Minutes per day", [target(
            f"SELECT sum(\"azm\") FROM \"active_zone_minutes\" WHERE $timeFilter AND {USER} {daily()}", alias="AZM")],
            12, 17, bars=True, unit="none",
            description="Fat burn + 2 × (cardio + peak); a measure of its own, never added to active minutes."),
        series("Calories per day", [target(
            "SELECT sum(\"total_kcal\") AS \"total\", sum(\"active_kcal\") AS \"active\" "
            f"FROM \"calories_daily\" WHERE $timeFilter AND {USER} {daily()}")],
            0, 25, bars=True, unit="kcal"),
        series("Distance per day", [target(
            f"SELECT sum(\"m\") / 1000 FROM \"distance_daily\" WHERE $timeFilter AND {USER} {daily()}", alias="km")],
            12, 25, bars=True, unit="lengthkm"),
        series("Floors per day", [target(
            f"SELECT sum(\"count\") FROM \"floors_daily\" WHERE $timeFilter AND {USER} {daily()}", alias="floors")],
            0, 33, bars=True, unit="none"),
        table("Exercises",
              "SELECT \"duration_s\" AS \"duration\", \"distance_m\" / 1000 AS \"km\", "
              "\"active_duration_s\" / 60 / (\"distance_m\" / 1000) AS \"pace (min/km)\", \"calories_kcal\" AS \"kcal\", "
              "\"avg_bpm\" AS \"mean bpm\", \"azm\" AS \"AZM\", \"steps\" "
              f"FROM \"exercise\" WHERE $timeFilter AND {USER} GROUP BY \"type\"",
              12, 33, w=12, overrides=[unit_of("Time", "dateTimeAsIso"), unit_of("duration", "dtdurations")],
              description="Pace from the active time (pauses left out); sessions without a distance have none."),
    ])


def body():
    return dashboard("fitbit-body", "Fitbit: body", [
        series("Weight", [target(f"SELECT mean(\"kg\") FROM \"weight\" WHERE $timeFilter AND {USER} {daily()}", alias="kg")],
               0, 0, w=24, unit="masskg"),
        series("Body fat", [target(f"SELECT mean(\"pct\") FROM \"body_fat\" WHERE $timeFilter AND {USER} {daily()}", alias="body fat")],
               0, 8, unit="percent"),
        series("BMI", [target(f"SELECT mean(\"bmi\") FROM \"weight\" WHERE $timeFilter AND {USER} {daily()}", alias="BMI")],
               12, 8, unit="none", description="From each weight and the latest height."),
    ], days=90)


def pipeline():
    rounds = ("SELECT \"state\", \"requests\", \"rate_limited\" AS \"429s\", \"quota_wait_s\" AS \"quota wait\", "
              "\"points\", \"skipped_points\" AS \"skipped\", \"windows_failed\" AS \"failed windows\" "
              f"FROM \"sync_round\" WHERE $timeFilter AND {USER}")
    per_type = ("SELECT last(\"done_days\") AS \"days done\", last(\"total_days\") AS \"days in history\", "
                "last(\"open_days\") AS \"open\", last(\"failed_days\") AS \"failed\", last(\"lag_s\") AS \"lag\" "
                f"FROM \"sync_type\" WHERE $timeFilter AND {USER} GROUP BY \"data_type\"")
    state = panel("stat", "Last round", [target(
        f"SELECT last(\"state\") AS \"state\" FROM \"sync_round\" WHERE $timeFilter AND {USER}")], 0, 0, 6, 4,
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "/^state$/", "values": False},
                 "colorMode": "background", "graphMode": "none", "textMode": "value"},
        mappings=[{"type": "value", "options": {
            "ok": {"color": "green", "index": 0, "text": "ok"},
            "some_failed": {"color": "orange", "index": 1, "text": "some windows failed (retried soon)"},
            "not_started": {"color": "orange", "index": 2, "text": "could not start (retrying)"},
            "credentials_refused": {"color": "red", "index": 3, "text": "credentials refused: see the log"},
            "regrant_needed": {"color": "red", "index": 4, "text": "access withdrawn: consent again"}}}],
        description="How the person's latest round ended; `fitbit-influx health` and the log say what to do.")
    return dashboard("fitbit-pipeline", "Fitbit: pipeline", [
        state,
        series("Requests per hour", [target(
            "SELECT sum(\"requests\") AS \"requests\", sum(\"rate_limited\") AS \"429s\" "
            f"FROM \"sync_round\" WHERE $timeFilter AND {USER} GROUP BY time(1h) fill(none)")],
            6, 0, w=18, h=4, bars=True, unit="none"),
        table("Data types", per_type, 0, 4, h=10, overrides=[unit_of("lag", "dtdurations")],
              description="Per type: days of the history written, days that may still change (fetched again), "
                          "failed days (retried with backoff) and how far the newest final day is behind."),
        table("Rounds", rounds, 0, 14, h=8,
              overrides=[unit_of("Time", "dateTimeAsIso"), unit_of("quota wait", "s")],
              description="Every round: when it ended, how, and what it cost."),
    ], days=7)


def insights():
    """What the daemon derives from the stored series (docs/schema.md, "Insights")."""
    def metric(name, field):
        return f"SELECT last(\"{field}\") FROM \"insight\" WHERE $timeFilter AND {USER} AND \"metric\" = '{name}' {daily()}"
    return dashboard("fitbit-insights", "Fitbit: insights", [
        table("What changed",
              "SELECT \"summary\" AS \"what changed\", \"activity_class\" AS \"activity\", \"wear_min\" AS \"worn (min)\" "
              f"FROM \"day_insight\" WHERE $timeFilter AND {USER}",
              0, 0, h=9, overrides=[unit_of("Time", "dateTimeAsIso")],
              description="Per day: metrics far outside your own 30-day baseline (median and MAD; three robust "
                          "standard deviations) and for how many days in a row, the day's activity class "
                          "(not worn under an hour of heart rate; low under 500 steps; high from 10,000) and "
                          "the minutes with heart-rate samples."),
        series("Resting heart rate against your baseline",
               [target(metric("resting_hr", "value"), alias="resting HR"),
                target(metric("resting_hr", "baseline_median"), ref="B", alias="baseline (30-day median)")],
               0, 9, unit="bpm",
               description="The baseline needs 14 of the 30 days before; until then it is absent, not guessed."),
        series("Wear time per day",
               [target(f"SELECT last(\"wear_min\") FROM \"day_insight\" WHERE $timeFilter AND {USER} {daily()}",
                       alias="worn")],
               12, 9, bars=True, unit="m"),
        series("Sleep regularity (28-day spread)",
               [target(metric("bedtime", "sd_28d"), alias="bedtime"),
                target(metric("wake", "sd_28d"), ref="B", alias="wake-up")],
               0, 17, unit="m",
               description="Standard deviation of bedtime and wake-up over the 28 nights ending each day: lower "
                           "is more regular."),
        series("Resting heart rate trend",
               [target(metric("resting_hr", "mean_7d"), alias="7-day mean"),
                target(metric("resting_hr", "mean_28d"), ref="B", alias="28-day mean")],
               12, 17, unit="bpm"),
    ], days=30)


DASHBOARDS = {"overview.json": overview, "pipeline.json": pipeline, "heart.json": heart, "sleep.json": sleep, "activity.json": activity,
              "body.json": body, "insights.json": insights}


def main():
    check = "--check" in sys.argv
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("out of date (run python3 scripts/dashboards.py): " + ", ".join(stale))
        sys.exit(1)


if __name__ == "__main__":
    main()
