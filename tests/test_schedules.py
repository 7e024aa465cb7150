"""hub.daemon.schedules: the daemon's schedule file, its checks (file, line, key, reason), client
overrides, and the APScheduler triggers it builds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.resources
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.daemon.schedules import (
    KNOWN_JOBS,
    JobSchedule,
    ScheduleError,
    Trigger,
    _Locator,  # the line finder, tested alone for what files rarely hold
    default_text,
    load,
    parse,
)
from hub.errors import InputError

REPO = Path(__file__).resolve().parent.parent
OSLO = ZoneInfo("Europe/Oslo")

BASE = """\
[daemon]
max_workers = 4

[jobs.sync]
trigger = "interval"
hours = 2
jitter = 300

[jobs.recurring]
trigger = "cron"
hour = 6
minute = 0
"""


def error_of(text: str, source: str = "schedules.toml") -> str:
    with pytest.raises(ScheduleError) as caught:
        parse(text, source)
    return str(caught.value)


# -- the shipped default ------------------------------------------------------------------------


def test_the_packaged_default_is_the_repositorys_file_byte_for_byte() -> None:
    packaged = (importlib.resources.files("hub.daemon") / "default_schedules.toml").read_bytes()
    assert packaged == (REPO / "schedules" / "default.toml").read_bytes()
    assert default_text().encode("utf-8") == packaged
    link = REPO / "hub" / "daemon" / "default_schedules.toml"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()


def test_the_default_syncs_every_two_hours_r3_and_schedules_every_job() -> None:
    schedules = load()
    assert schedules.source == "<packaged default>"
    assert (schedules.max_workers, schedules.misfire_grace_seconds) == (4, None)
    assert schedules.refresh_seconds == 60
    assert set(schedules.jobs) == set(KNOWN_JOBS)
    sync = schedules.jobs["sync"]
    assert sync.enabled and sync.trigger == Trigger("interval", (("hours", 2),), None, 300)
    assert sync.trigger.describe() == "every 2 h (jitter 300 s)"
    recurring = schedules.jobs["recurring"].trigger
    assert recurring == Trigger("cron", (("hour", 6), ("minute", 0)), None, 600)
    postings = schedules.jobs["postings"].trigger
    assert postings == Trigger("interval", (("hours", 1),), None, 60)
    assert schedules.client_overrides == {}
    assert load(REPO / "schedules" / "default.toml").jobs == schedules.jobs


def test_the_defaults_commented_examples_are_valid_when_uncommented() -> None:
    """Operators copy the file and uncomment its examples: they must work as written."""
    text = default_text()
    examples = text[text.index('# [clients."acme".sync]') :]
    uncommented = re.sub(r"(?m)^# ?", "", examples)
    schedules = parse(text + uncommented, "copy.toml")
    assert schedules.for_client("acme", "sync").trigger == Trigger(
        "interval", (("hours", 1),), None, 300
    )
    assert schedules.for_client("acme", "recurring") == JobSchedule("recurring", False, None)
    postings = schedules.for_client("acme", "postings").trigger
    assert postings is not None
    assert postings.describe() == "cron day_of_week=mon-fri hour=18 (Europe/Oslo)"
    timezone = parse(text.replace('# timezone = "Europe/Oslo"', 'timezone = "Europe/Oslo"'), "x")
    assert timezone.jobs["recurring"].trigger == Trigger(
        "cron", (("hour", 6), ("minute", 0)), "Europe/Oslo", 600
    )


def test_known_jobs_match_the_jobs_module() -> None:
    jobs = pytest.importorskip("hub.daemon.jobs")
    assert tuple(jobs.JOB_KINDS) == KNOWN_JOBS


# -- refusals: file, line, key and reason -------------------------------------------------------


def test_a_toml_syntax_error_names_the_file_and_line() -> None:
    message = error_of(BASE + "\n[jobs.postings]\ntrigger = interval\n")
    assert message.startswith("schedules.toml:15: Invalid value (at line 15, column 11)")
    assert error_of("hours = ") == "schedules.toml:1: Invalid value (at end of document)"


def test_a_schedule_error_is_an_input_error_exit_2() -> None:
    assert issubclass(ScheduleError, InputError)
    assert ScheduleError("x").exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            BASE + "\n[job.postings]\ntrigger = 'interval'\n",
            "schedules.toml:14: job: unknown table"
            " (known: daemon, jobs, clients, distributed, limits)",
            id="unknown-table",
        ),
        pytest.param(
            BASE.replace("hours = 2", "hours = 2\nhour = 3"),
            'schedules.toml:7: jobs.sync.hour: only with trigger = "cron"',
            id="cron-field-in-interval",
        ),
        pytest.param(
            BASE.replace("jitter = 300", "jiter = 300"),
            "schedules.toml:7: jobs.sync.jiter: unknown key (known: trigger, enabled, jitter,",
            id="unknown-key",
        ),
        pytest.param(
            BASE.replace("max_workers = 4", "max_workers = 4\nworkers = 2"),
            "schedules.toml:3: daemon.workers: unknown key (known: max_workers,",
            id="unknown-daemon-key",
        ),
        pytest.param(
            BASE + "\n[jobs.dunning]\ntrigger = 'interval'\nhours = 1\n",
            "schedules.toml:14: jobs.dunning: unknown job (known: sync, recurring, postings)",
            id="unknown-job",
        ),
        pytest.param(
            BASE.replace("hours = 2", "hours = true"),
            "schedules.toml:6: jobs.sync.hours: must be a whole number >= 0, not true",
            id="bool-for-int",
        ),
        pytest.param(
            BASE.replace("hours = 2", "hours = 'two'"),
            "schedules.toml:6: jobs.sync.hours: must be a whole number >= 0, not 'two'",
            id="text-for-int",
        ),
        pytest.param(
            BASE.replace("hours = 2", "hours = 1.5"),
            "schedules.toml:6: jobs.sync.hours: must be a whole number >= 0, not 1.5",
            id="float-for-int",
        ),
        pytest.param(
            BASE.replace("jitter = 300", "jitter = -5"),
            "schedules.toml:7: jobs.sync.jitter: must be a whole number >= 0, not -5",
            id="negative-jitter",
        ),
        pytest.param(
            BASE.replace("minute = 0", "minute = 0\ntimezone = 'Europe/Olso'"),
            "schedules.toml:13: jobs.recurring.timezone: 'Europe/Olso' is not a known IANA"
            " time zone (such as 'Europe/Oslo')",
            id="bad-timezone",
        ),
        pytest.param(
            BASE.replace("hour = 6", "hour = 25"),
            "schedules.toml:11: jobs.recurring.hour: Error validating expression '25': the last"
            " value (25) is higher than the maximum value (23)",
            id="hour-25",
        ),
        pytest.param(
            BASE.replace("minute = 0", 'day_of_week = "mon-fry"'),
            'schedules.toml:12: jobs.recurring.day_of_week: Invalid weekday name "fry"',
            id="bad-weekday",
        ),
        pytest.param(
            BASE.replace("minute = 0", "minute = true"),
            "schedules.toml:12: jobs.recurring.minute: must be a whole number or a cron"
            " expression, not true",
            id="bool-cron-field",
        ),
        pytest.param(
            BASE.replace("hours = 2", "hours = 0\nminutes = 0"),
            "schedules.toml:4: jobs.sync: an interval of 0; give weeks, days, hours, minutes,"
            " seconds adding up to more than 0",
            id="zero-interval",
        ),
        pytest.param(
            BASE.replace("hours = 2", "weeks = 9223372036854775807"),
            "schedules.toml:4: jobs.sync: an interval longer than the calendar",
            id="interval-too-long",
        ),
        pytest.param(
            BASE.replace("hours = 2\n", ""),
            "schedules.toml:4: jobs.sync: an interval of 0",
            id="interval-without-fields",
        ),
        pytest.param(
            BASE.replace("hour = 6\nminute = 0\n", "jitter = 5\n"),
            "schedules.toml:9: jobs.recurring: a cron trigger needs one of year, month,",
            id="cron-without-fields",
        ),
        pytest.param(
            BASE.replace('trigger = "interval"\n', ""),
            'schedules.toml:4: jobs.sync: no trigger; give trigger = "interval" or trigger ='
            ' "cron"',
            id="no-trigger",
        ),
        pytest.param(
            BASE.replace('trigger = "interval"', 'trigger = "every"'),
            'schedules.toml:5: jobs.sync.trigger: must be "interval" or "cron", not \'every\'',
            id="bad-trigger",
        ),
        pytest.param(
            BASE + "enabled = 'no'\n",
            "schedules.toml:13: jobs.recurring.enabled: must be true or false, not 'no'",
            id="enabled-not-bool",
        ),
        pytest.param(
            BASE.replace("max_workers = 4", "max_workers = 65"),
            "schedules.toml:2: daemon.max_workers: must be a whole number from 1 to 64, not 65",
            id="too-many-workers",
        ),
        pytest.param(
            BASE.replace("max_workers = 4", "max_workers = 0"),
            "schedules.toml:2: daemon.max_workers: must be a whole number >= 1, not 0",
            id="no-workers",
        ),
        pytest.param(
            BASE.replace("max_workers = 4", "refresh_seconds = 0"),
            "schedules.toml:2: daemon.refresh_seconds: must be a whole number >= 1, not 0",
            id="refresh-0",
        ),
        pytest.param(
            BASE.replace("max_workers = 4", "misfire_grace_seconds = -1"),
            "schedules.toml:2: daemon.misfire_grace_seconds: must be a whole number >= 0, not -1",
            id="negative-grace",
        ),
        pytest.param(
            "jobs = 3\n",
            "schedules.toml:1: jobs: must be a table, not 3",
            id="jobs-not-a-table",
        ),
        pytest.param(
            BASE + "\n[[jobs.postings]]\ntrigger = 'interval'\n",
            "schedules.toml:14: jobs.postings: must be a table, not an array",
            id="array-of-tables",
        ),
        pytest.param(
            BASE + '\n[clients."acme"]\nsync = 1\n',
            "schedules.toml:15: clients.acme.sync: must be a table, not 1",
            id="client-job-not-a-table",
        ),
        pytest.param(
            BASE + '\n[clients."acme".postings]\nhours = 1\n',
            "schedules.toml:14: clients.acme.postings: no [jobs.postings] to override;"
            " give trigger",
            id="override-of-unknown-job-without-trigger",
        ),
        pytest.param(
            BASE + '\n[clients."acme".sync]\nhour = 1\n',
            'schedules.toml:15: clients.acme.sync.hour: only with trigger = "cron"'
            " ([jobs.sync] is interval: give trigger to replace it)",
            id="override-field-of-other-trigger",
        ),
        pytest.param(
            BASE + '\n[clients."acme".sync]\nhours = 0\n',
            "schedules.toml:14: clients.acme.sync: an interval of 0",
            id="override-makes-interval-zero",
        ),
        pytest.param(
            BASE + '\n[clients."acme.no".dunning]\nenabled = false\n',
            'schedules.toml:14: clients."acme.no".dunning: unknown job (known:',
            id="override-of-unknown-job-kind",
        ),
        pytest.param(
            BASE + "\n[clients.acme]\nsync.hours = 'x'\n",
            "schedules.toml:15: clients.acme.sync.hours: must be a whole number >= 0, not 'x'",
            id="dotted-key",
        ),
        pytest.param(
            BASE.replace("hour = 6", "# hour = 6 was here\nhour = 25"),
            "schedules.toml:12: jobs.recurring.hour: Error validating expression '25'",
            id="commented-out-key-before",
        ),
    ],
)
def test_each_bad_input_is_refused_with_its_line_key_and_reason(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_an_unreadable_file_names_the_path_and_reason(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(
        ScheduleError,
        match=rf"^{re.escape(str(missing))}: cannot read the "
        "schedule file: No such file or directory$",
    ):
        load(missing)
    with pytest.raises(ScheduleError, match="cannot read the schedule file: Is a directory"):
        load(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ScheduleError, match=r"binary.toml: the schedule file is not UTF-8 text"):
        load(binary)


def test_errors_from_a_file_name_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BASE.replace("hours = 2", "hours = -1"), encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        load(path)
    assert str(caught.value) == (f"{path}:6: jobs.sync.hours: must be a whole number >= 0, not -1")


def test_a_line_is_found_for_quoted_keys_and_headers_with_spaces() -> None:
    text = BASE + '\n[ clients . "x y" . "sync" ]\n"jitter" = -1\n'
    assert (
        error_of(text) == 'schedules.toml:15: clients."x y".sync.jitter: must be a whole'
        " number >= 0, not -1"
    )


def test_lines_inside_multi_line_strings_are_not_keys() -> None:
    text = "x = \"\"\"\nhours = 1\n[jobs.sync]\n\"\"\"\n[jobs.sync]\nhours = 2\nlast = '''a'''\n"
    locator = _Locator(text)
    assert locator.line(("jobs", "sync", "hours")) == 6
    assert locator.line(("jobs", "sync", "last")) == 7
    assert locator.line(("jobs", "sync", "minutes")) == 5  # absent: its table's header
    assert locator.line(("hours",)) == 1  # absent and no table: line 1


# -- overrides ----------------------------------------------------------------------------------


def test_an_override_without_trigger_is_merged_over_the_jobs_default() -> None:
    text = BASE + (
        '\n[clients."acme".sync]\nminutes = 30\n'
        '\n[clients."acme".recurring]\nhour = 7\ntimezone = "Europe/Copenhagen"\n'
    )
    schedules = parse(text, "s.toml")
    assert schedules.for_client("acme", "sync") == JobSchedule(
        "sync", True, Trigger("interval", (("hours", 2), ("minutes", 30)), None, 300)
    )
    recurring = schedules.for_client("acme", "recurring").trigger
    assert recurring == Trigger("cron", (("hour", 7), ("minute", 0)), "Europe/Copenhagen", 0)
    # other clients, and acme's other jobs, keep the defaults
    assert schedules.for_client("other", "sync") == schedules.jobs["sync"]
    assert schedules.for_client("acme", "postings") == JobSchedule("postings", False, None)


def test_an_override_with_trigger_replaces_it_whole() -> None:
    text = BASE + '\n[clients."acme".sync]\ntrigger = "cron"\nminute = "*/30"\n'
    trigger = parse(text, "s.toml").for_client("acme", "sync").trigger
    assert trigger == Trigger("cron", (("minute", "*/30"),), None, 0)


def test_enabled_false_alone_disables_even_a_job_with_no_default() -> None:
    text = BASE + (
        '\n[clients."acme".sync]\nenabled = false\n\n[clients."acme".postings]\nenabled = false\n'
    )
    schedules = parse(text, "s.toml")
    assert schedules.for_client("acme", "sync") == JobSchedule("sync", False, None)
    assert schedules.for_client("acme", "postings") == JobSchedule("postings", False, None)
    assert schedules.for_client("bob", "sync").enabled


def test_a_job_disabled_by_default_can_be_enabled_for_one_client() -> None:
    text = BASE.replace("jitter = 300", "jitter = 300\nenabled = false") + (
        '\n[clients."acme".sync]\nenabled = true\n'
    )
    schedules = parse(text, "s.toml")
    assert schedules.jobs["sync"] == JobSchedule("sync", False, None)
    assert schedules.for_client("acme", "sync") == JobSchedule(
        "sync", True, Trigger("interval", (("hours", 2),), None, 300)
    )


def test_a_job_absent_from_the_file_is_not_scheduled() -> None:
    schedules = parse('[jobs.sync]\ntrigger = "interval"\nminutes = 5\n', "s.toml")
    assert schedules.jobs["recurring"] == JobSchedule("recurring", False, None)
    assert schedules.jobs["postings"] == JobSchedule("postings", False, None)
    assert (schedules.max_workers, schedules.refresh_seconds) == (4, 60)


def test_misfire_grace_zero_or_absent_means_never_drop_a_missed_run() -> None:
    assert parse(BASE, "s").misfire_grace_seconds is None
    grace = BASE.replace("max_workers = 4", "misfire_grace_seconds = 0")
    assert parse(grace, "s").misfire_grace_seconds is None
    grace = BASE.replace("max_workers = 4", "misfire_grace_seconds = 900")
    assert parse(grace, "s").misfire_grace_seconds == 900


def test_check_clients_refuses_an_override_of_a_client_that_does_not_exist() -> None:
    text = BASE + (
        '\n[clients."acme".sync]\nhours = 1\n'
        '\n[clients."acme.no".sync]\nenabled = false\n'
        '\n[clients."bob"]\n'
    )
    schedules = parse(text, "s.toml")
    assert dict(schedules.client_lines) == {"acme": 14, "acme.no": 17, "bob": 20}
    schedules.check_clients(["acme", "acme.no", "bob", "carol"])
    with pytest.raises(ScheduleError) as caught:
        schedules.check_clients(["acme", "bob"])
    assert str(caught.value) == (
        "s.toml:17: clients.\"acme.no\": no client named 'acme.no' (see `hub clients list`)"
    )
    with pytest.raises(ScheduleError, match=r"^s.toml:14: clients.acme: no client named"):
        schedules.check_clients([])


def test_unknown_plugins_names_limits_and_queues_of_plugins_not_installed() -> None:
    from hub.daemon.schedules import unknown_plugin_warnings, unknown_plugins

    text = BASE + (
        "\n[limits.tripletex]\nrequests = 1\nseconds = 1\n"
        "[limits.economic]\nrequests = 1\nseconds = 1\n"
        "[limits.zeta]\nrequests = 1\nseconds = 1\n"
        "[distributed.queues]\neconomic = 2\nvisma = 2\n"
    )
    schedules = parse(text, "s.toml")
    installed = ["norwegian_invoicing", "economic"]
    assert unknown_plugins(schedules, installed) == {
        "limits.*": ["tripletex", "zeta"],
        "distributed.queues": ["visma"],
    }
    assert unknown_plugins(schedules, installed, distributed=False) == {
        "limits.*": ["tripletex", "zeta"]
    }
    assert unknown_plugins(schedules, [*installed, "tripletex", "zeta", "visma"]) == {}
    assert unknown_plugin_warnings(schedules, installed) == [
        "s.toml: [limits.*] names no installed plugin: tripletex, zeta (no rate budget applies"
        " to it; installed: economic, norwegian_invoicing)",
        "s.toml: [distributed.queues] names no installed plugin: visma (no task goes to its"
        " queue; installed: economic, norwegian_invoicing)",
    ]


# -- triggers -----------------------------------------------------------------------------------


def test_cron_in_oslo_fires_at_six_local_time() -> None:
    trigger = Trigger("cron", (("hour", 6), ("minute", 0)), "Europe/Oslo", 0)
    built = trigger.build("Europe/Copenhagen")
    now = dt.datetime(2025, 3, 29, 12, 0, tzinfo=dt.UTC)
    # the next day is the switch to summer time: 06:00 in Oslo is 04:00 UTC
    assert built.get_next_fire_time(None, now) == dt.datetime(2025, 3, 30, 6, 0, tzinfo=OSLO)
    assert built.get_next_fire_time(None, now) == dt.datetime(2025, 3, 30, 4, 0, tzinfo=dt.UTC)


def test_a_trigger_without_timezone_uses_the_clients() -> None:
    trigger = Trigger("cron", (("hour", 6), ("minute", 0)), None, 0)
    now = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)
    fire = trigger.build("America/New_York").get_next_fire_time(None, now)
    assert fire == dt.datetime(2025, 1, 11, 11, 0, tzinfo=dt.UTC)


def test_an_interval_fires_every_so_long() -> None:
    trigger = load().jobs["sync"].trigger
    assert trigger is not None
    built = dataclasses.replace(trigger, jitter=0).build("Europe/Oslo")
    previous = dt.datetime(2025, 5, 1, 8, 0, tzinfo=OSLO)
    now = previous + dt.timedelta(minutes=1)
    assert built.get_next_fire_time(previous, now) == dt.datetime(2025, 5, 1, 10, 0, tzinfo=OSLO)


def test_jitter_delays_a_run_by_at_most_its_seconds() -> None:
    built = Trigger("cron", (("hour", 6),), "UTC", 300).build("UTC")
    now = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)
    six = dt.datetime(2025, 1, 11, 6, 0, tzinfo=dt.UTC)
    for _ in range(20):
        fire = built.get_next_fire_time(None, now)
        assert six <= fire <= six + dt.timedelta(seconds=300)


def test_build_refuses_an_unknown_client_time_zone() -> None:
    with pytest.raises(ScheduleError, match="'Mars/Olympus': not a known IANA time zone"):
        Trigger("cron", (("hour", 6),), None, 0).build("Mars/Olympus")


def test_describe() -> None:
    interval = Trigger("interval", (("days", 1), ("hours", 2), ("minutes", 30)), None, 0)
    assert interval.describe() == "every 1 d 2 h 30 min"
    cron = Trigger("cron", (("hour", 6), ("minute", 0)), "Europe/Oslo", 0)
    assert cron.describe() == "cron hour=6 minute=0 (Europe/Oslo)"
    cron = Trigger("cron", (("hour", 6),), None, 600)
    assert cron.describe() == "cron hour=6 (the client's time zone, jitter 600 s)"


def test_fields_are_in_canonical_order_whatever_the_files_order() -> None:
    a = parse('[jobs.sync]\ntrigger = "cron"\nminute = 0\nhour = 6\nday = 1\n', "a")
    b = parse('[jobs.sync]\ntrigger = "cron"\nday = 1\nhour = 6\nminute = 0\n', "b")
    assert a.jobs == b.jobs
    trigger = a.jobs["sync"].trigger
    assert trigger is not None
    assert trigger.fields == (("day", 1), ("hour", 6), ("minute", 0))
    assert trigger.fingerprint() == dataclasses.replace(trigger).fingerprint()
    assert b.jobs["sync"] == JobSchedule("sync", True, trigger)


def test_the_fingerprint_changes_with_every_field_and_only_then() -> None:
    base = Trigger("cron", (("hour", 6), ("minute", 0)), "Europe/Oslo", 600)
    same = Trigger("cron", (("hour", 6), ("minute", 0)), "Europe/Oslo", 600)
    assert base.fingerprint() == same.fingerprint()
    changed = [
        dataclasses.replace(base, kind="interval", fields=(("hours", 6),)),
        dataclasses.replace(base, fields=(("hour", 7), ("minute", 0))),
        dataclasses.replace(base, fields=(("hour", 6), ("minute", 5))),
        dataclasses.replace(base, fields=(("hour", 6), ("minute", 0), ("second", 30))),
        dataclasses.replace(base, fields=(("hour", "6"), ("minute", 0))),
        dataclasses.replace(base, timezone=None),
        dataclasses.replace(base, timezone="Europe/Copenhagen"),
        dataclasses.replace(base, jitter=0),
        dataclasses.replace(base, jitter=601),
    ]
    prints = {t.fingerprint() for t in changed}
    assert len(prints) == len(changed) and base.fingerprint() not in prints
    # parsing the same file twice gives the same fingerprints
    assert [j.trigger.fingerprint() for j in load().jobs.values() if j.trigger] == [
        j.trigger.fingerprint() for j in parse(default_text(), "copy").jobs.values() if j.trigger
    ]
