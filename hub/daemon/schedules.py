"""When the daemon runs each job, for every client: the declarative schedule file.

The file is TOML. The shipped default (``schedules/default.toml``, packaged as
``hub/daemon/default_schedules.toml``) explains every key in comments; in short::

    [daemon]
    max_workers = 4              # threads running jobs at once (1..64)
    misfire_grace_seconds = 0    # 0/absent: runs missed while down are coalesced into one run
    refresh_seconds = 60         # how often clients added or removed are picked up (>= 1)

    [jobs.sync]                  # one table per job kind: sync, recurring, postings
    trigger = "interval"         # "interval" or "cron"
    hours = 2                    # interval: weeks days hours minutes seconds (total > 0)
    jitter = 300                 # seconds of random delay (>= 0)

    [jobs.recurring]
    trigger = "cron"             # cron: year month day week day_of_week hour minute second
    hour = 6
    timezone = "Europe/Oslo"     # optional; default: each client's own time zone

    [clients."acme".sync]        # a client's override of one job
    hours = 1                    # without trigger: merged over [jobs.sync]
    enabled = false              # this client gets no sync job

    [distributed]                # only hub run --distributed reads it
    tick_seconds = 15            # how often one node turns the schedule into tasks
    heartbeat_seconds = 10       # each node's heartbeat
    stalled_seconds = 60         # a node silent this long is dead: its tasks are taken over
    [distributed.queues]         # per accounting plugin: a queue and its concurrency per node
    economic = 4

    [limits.economic]            # a shared rate budget per credential of a plugin
    requests = 9000              # at most this many requests ...
    seconds = 60                 # ... per this many seconds (both whole numbers > 0)

A job kind absent from ``[jobs]`` is not scheduled. A client override that gives ``trigger``
replaces the default trigger whole (its fields, ``jitter`` and ``timezone``); without ``trigger``
its keys are merged over the default's.

Everything the file says is checked before the daemon starts: an unknown table or key, a wrong
type, a bad value or time zone is a :class:`ScheduleError` naming the file, the line and the
dotted key (``schedules.toml:12: jobs.sync.hours: must be a whole number >= 0, not 'two'``).
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import (
    IntervalTrigger,
)

from hub.errors import InputError
from hub.logging import get_logger
from hub.operations.runs import JOB_KINDS
from hub.toolkit.budget import Budget

#: The job kinds a schedule file may name: the run history's (:class:`hub.operations.runs.JobKind`).
KNOWN_JOBS: tuple[str, ...] = JOB_KINDS

log = get_logger("hub.daemon.schedules")

TRIGGER_KINDS: tuple[str, ...] = ("interval", "cron")
INTERVAL_FIELDS: tuple[str, ...] = ("weeks", "days", "hours", "minutes", "seconds")
CRON_FIELDS: tuple[str, ...] = (
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
)
_COMMON_KEYS: tuple[str, ...] = ("trigger", "enabled", "jitter", "timezone")
_JOB_KEYS: tuple[str, ...] = _COMMON_KEYS + INTERVAL_FIELDS + CRON_FIELDS
_FIELDS_OF = {"interval": INTERVAL_FIELDS, "cron": CRON_FIELDS}
_TOP_KEYS: tuple[str, ...] = ("daemon", "jobs", "clients", "distributed", "limits")
_DAEMON_KEYS: tuple[str, ...] = ("max_workers", "misfire_grace_seconds", "refresh_seconds")
_LIMIT_KEYS: tuple[str, ...] = ("requests", "seconds")  # [limits.<plugin>] (issue 18)
_INTERVAL_UNITS = {"weeks": "w", "days": "d", "hours": "h", "minutes": "min", "seconds": "s"}

DEFAULT_MAX_WORKERS = 4
MAX_WORKERS_LIMIT = 64
DEFAULT_REFRESH_SECONDS = 60
PACKAGED_SOURCE = "<packaged default>"
_PACKAGED_NAME = "default_schedules.toml"


# -- [distributed] (i18-core) -------------------------------------------------------------------

_DISTRIBUTED_KEYS: tuple[str, ...] = (
    "tick_seconds",
    "heartbeat_seconds",
    "stalled_seconds",
    "queues",
)
#: The queue of the clients whose plugin ``[distributed.queues]`` does not name.
DEFAULT_QUEUE = "default"
_QUEUE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Distributed:
    """``[distributed]``: how the nodes of ``hub run --distributed`` work together.

    ``queues``: accounting plugin name -> how many of its clients' tasks each node runs at
    once; the clients of other plugins share queue ``default`` (``[daemon] max_workers``).
    """

    tick_seconds: int = 15
    heartbeat_seconds: int = 10
    stalled_seconds: int = 60
    queues: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def tick_cron(self) -> str:
        """The tick as procrastinate's 6-field cron (seconds last)."""
        if self.tick_seconds < 60:
            return f"* * * * * */{self.tick_seconds}"
        return f"*/{self.tick_seconds // 60} * * * * 0"


# -----------------------------------------------------------------------------------------------


class ScheduleError(InputError):
    """The schedule file is unreadable or says something the daemon cannot do."""


@dataclass(frozen=True)
class Trigger:
    """One job's trigger, independent of the client it will run for.

    ``fields`` are the interval or cron fields in their canonical order (weeks..seconds,
    year..second), so that equal schedules compare, hash and fingerprint equal.
    """

    kind: str
    fields: tuple[tuple[str, int | str], ...]
    timezone: str | None
    jitter: int

    def describe(self) -> str:
        """For people: ``every 2 h (jitter 300 s)``, ``cron hour=6 minute=0 (Europe/Oslo)``."""
        notes: list[str] = []
        if self.kind == "interval":
            what = "every " + " ".join(f"{v} {_INTERVAL_UNITS[k]}" for k, v in self.fields)
            if self.timezone:
                notes.append(self.timezone)
        else:
            what = "cron " + " ".join(f"{k}={v}" for k, v in self.fields)
            notes.append(self.timezone or "the client's time zone")
        if self.jitter:
            notes.append(f"jitter {self.jitter} s")
        return f"{what} ({', '.join(notes)})" if notes else what

    def fingerprint(self) -> str:
        """Stable text of everything the trigger says: the daemon reschedules a job whose
        fingerprint changed and leaves the others (and their next run) alone. It does not
        include the client's time zone, which :meth:`build` is given separately."""
        fields = ",".join(f"{k}={v!r}" for k, v in self.fields)
        return f"{self.kind}[{fields}] tz={self.timezone or '-'} jitter={self.jitter}"

    def build(self, client_timezone: str) -> BaseTrigger:
        """The APScheduler trigger, in ``self.timezone`` or else the client's time zone."""
        name = self.timezone or client_timezone
        try:
            tz = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"time zone {name!r}: not a known IANA time zone") from None
        kwargs: dict[str, Any] = dict(self.fields)
        jitter = self.jitter or None
        if self.kind == "interval":
            return IntervalTrigger(**kwargs, timezone=tz, jitter=jitter)
        return CronTrigger(**kwargs, timezone=tz, jitter=jitter)


@dataclass(frozen=True)
class JobSchedule:
    job: str
    enabled: bool
    trigger: Trigger | None  # None when disabled


@dataclass(frozen=True)
class Schedules:
    source: str
    max_workers: int
    misfire_grace_seconds: int | None  # None: a missed run is never dropped
    refresh_seconds: int
    jobs: Mapping[str, JobSchedule]
    client_overrides: Mapping[str, Mapping[str, JobSchedule]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    client_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    distributed: Distributed = field(default_factory=Distributed)
    # -- [limits.*] (issue 18, shared rate budgets) --
    #: Plugin name -> its shared rate budget per credential (:mod:`hub.toolkit.budget`).
    limits: Mapping[str, Budget] = field(default_factory=lambda: MappingProxyType({}))

    def for_client(self, client: str, job: str) -> JobSchedule:
        """The schedule of ``job`` for ``client``: its override, else the default."""
        if job not in self.jobs:
            raise ValueError(f"unknown job kind {job!r} (known: {', '.join(KNOWN_JOBS)})")
        return self.client_overrides.get(client, {}).get(job) or self.jobs[job]

    def check_clients(self, known: Iterable[str]) -> None:
        """Refuse an override of a client that does not exist (a typo would else be silently
        ignored and the client run on the default schedule). The first one in the file wins."""
        names = set(known)
        for name, line in sorted(self.client_lines.items(), key=lambda item: item[1]):
            if name not in names:
                raise ScheduleError(
                    f"{self.source}:{line}: {_dotted(('clients', name))}:"
                    f" no client named {name!r} (see `hub clients list`)"
                )


# -- plugin names the file uses that are not installed (issue 18) --

#: What a plugin name of each table that is not installed means.
_UNUSED: Mapping[str, str] = MappingProxyType(
    {
        "limits.*": "no rate budget applies to it",
        "distributed.queues": "no task goes to its queue",
    }
)


def unknown_plugins(
    schedules: Schedules, installed: Iterable[str], *, distributed: bool = True
) -> dict[str, list[str]]:
    """The names of ``[limits.<plugin>]`` and ``[distributed.queues]`` (when ``distributed``:
    only ``hub run --distributed`` reads it) that name no installed plugin, by table
    (``"limits.*"``, ``"distributed.queues"``), sorted; tables naming none left out.

    Not an error, but worth saying: a typo (``[limits.tripletex]`` for the plugin
    ``norwegian_invoicing``) would else silently apply nothing, while a plugin not installed
    on this host yet is fine (it applies once it is)."""
    names = set(installed)
    found = {"limits.*": sorted(set(schedules.limits) - names)}
    if distributed:
        found["distributed.queues"] = sorted(set(schedules.distributed.queues) - names)
    return {table: unknown for table, unknown in found.items() if unknown}


def unknown_plugin_warnings(
    schedules: Schedules, installed: Iterable[str], *, distributed: bool = True
) -> list[str]:
    """:func:`unknown_plugins` as one sentence per table (``hub run --check`` prints them)."""
    names = sorted(set(installed))
    return [
        f"{schedules.source}: [{table}] names no installed plugin: {', '.join(unknown)}"
        f" ({_UNUSED[table]}; installed: {', '.join(names) or 'none'})"
        for table, unknown in unknown_plugins(schedules, names, distributed=distributed).items()
    ]


def warn_unknown_plugins(
    schedules: Schedules, installed: Iterable[str], *, distributed: bool = True
) -> None:
    """Log one warning per table of :func:`unknown_plugins` (both daemons, at start)."""
    names = sorted(set(installed))
    for table, unknown in unknown_plugins(schedules, names, distributed=distributed).items():
        log.warning(
            f"[{table}] names no installed plugin: {_UNUSED[table]}",
            schedules=schedules.source,
            unknown=unknown,
            plugins=names,
        )


def parse(text: str, source: str) -> Schedules:
    """Read and check a schedule file's text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScheduleError(f"{source}:{_syntax_error_line(str(e), text)}: {e}") from None
    return _Reader(text, source).read(data)


def load(path: Path | None = None) -> Schedules:
    """The schedule file at ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        return parse(default_text(), PACKAGED_SOURCE)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ScheduleError(f"{path}: cannot read the schedule file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ScheduleError(f"{path}: the schedule file is not UTF-8 text: {e.reason}") from None
    return parse(text, str(path))


def default_text() -> str:
    """The packaged default schedule file, comments included (``hub run --show-default``)."""
    return (importlib.resources.files("hub.daemon") / _PACKAGED_NAME).read_text(encoding="utf-8")


# -- checking -----------------------------------------------------------------------------------


@dataclass
class _Spec:
    """A job table as read, before it becomes a :class:`JobSchedule`: a disabled job keeps its
    trigger here, since a client's override may enable it again."""

    kind: str | None  # None only for ``enabled = false`` of a job with no [jobs.KIND]
    fields: dict[str, int | str]
    timezone: str | None
    jitter: int
    enabled: bool

    def schedule(self, job: str) -> JobSchedule:
        if not self.enabled or self.kind is None:
            return JobSchedule(job, False, None)
        order = _FIELDS_OF[self.kind]
        fields = tuple(sorted(self.fields.items(), key=lambda item: order.index(item[0])))
        return JobSchedule(job, True, Trigger(self.kind, fields, self.timezone, self.jitter))


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.locator = _Locator(text)

    def fail(self, path: tuple[str, ...], reason: str) -> NoReturn:
        line = self.locator.line(path)
        raise ScheduleError(f"{self.source}:{line}: {_dotted(path)}: {reason}")

    def read(self, data: dict[str, Any]) -> Schedules:
        for key in data:
            if key not in _TOP_KEYS:
                self.fail((key,), f"unknown table (known: {', '.join(_TOP_KEYS)})")
        daemon = self.table(("daemon",), data.get("daemon", {}))
        for key in daemon:
            if key not in _DAEMON_KEYS:
                self.fail(("daemon", key), f"unknown key (known: {', '.join(_DAEMON_KEYS)})")
        max_workers = self.whole(("daemon", "max_workers"), daemon, DEFAULT_MAX_WORKERS, 1)
        if max_workers > MAX_WORKERS_LIMIT:
            self.fail(
                ("daemon", "max_workers"),
                f"must be a whole number from 1 to {MAX_WORKERS_LIMIT}, not {max_workers}",
            )
        grace = self.whole(("daemon", "misfire_grace_seconds"), daemon, 0, 0)
        refresh = self.whole(("daemon", "refresh_seconds"), daemon, DEFAULT_REFRESH_SECONDS, 1)

        specs: dict[str, _Spec] = {}
        jobs = self.table(("jobs",), data.get("jobs", {}))
        for kind, value in jobs.items():
            path = ("jobs", kind)
            if kind not in KNOWN_JOBS:
                self.fail(path, f"unknown job (known: {', '.join(KNOWN_JOBS)})")
            specs[kind] = self.job(path, self.table(path, value), None)

        overrides: dict[str, Mapping[str, JobSchedule]] = {}
        lines: dict[str, int] = {}
        clients = self.table(("clients",), data.get("clients", {}))
        for name, value in clients.items():
            lines[name] = self.locator.line(("clients", name))
            mine: dict[str, JobSchedule] = {}
            for kind, table in self.table(("clients", name), value).items():
                where = ("clients", name, kind)
                if kind not in KNOWN_JOBS:
                    self.fail(where, f"unknown job (known: {', '.join(KNOWN_JOBS)})")
                mine[kind] = self.job(where, self.table(where, table), specs.get(kind)).schedule(
                    kind
                )
            overrides[name] = MappingProxyType(mine)

        defaults = {
            kind: specs[kind].schedule(kind) if kind in specs else JobSchedule(kind, False, None)
            for kind in KNOWN_JOBS
        }
        return Schedules(
            source=self.source,
            max_workers=max_workers,
            misfire_grace_seconds=grace or None,
            refresh_seconds=refresh,
            jobs=MappingProxyType(defaults),
            client_overrides=MappingProxyType(overrides),
            client_lines=MappingProxyType(lines),
            distributed=self.distributed(data.get("distributed", {})),
            limits=self.limits(data),
        )

    def distributed(self, value: Any) -> Distributed:
        """``[distributed]`` (i18-core)."""
        table = self.table(("distributed",), value)
        for key in table:
            if key not in _DISTRIBUTED_KEYS:
                known = ", ".join(_DISTRIBUTED_KEYS)
                self.fail(("distributed", key), f"unknown key (known: {known})")
        default = Distributed()
        tick = self.whole(("distributed", "tick_seconds"), table, default.tick_seconds, 1)
        if not (tick <= 60 and 60 % tick == 0) and not (tick % 60 == 0 and 3600 % tick == 0):
            self.fail(
                ("distributed", "tick_seconds"),
                "must divide a minute (1, 2, 3, 5, 10, 15, 20, 30, 60) or be whole minutes"
                f" dividing an hour (120, 300, 900...), not {tick}",
            )
        beat = self.whole(("distributed", "heartbeat_seconds"), table, default.heartbeat_seconds, 1)
        stalled = self.whole(("distributed", "stalled_seconds"), table, default.stalled_seconds, 1)
        if stalled < 2 * beat:
            self.fail(
                ("distributed", "stalled_seconds"),
                f"must be at least twice heartbeat_seconds ({beat}), not {stalled}: a live node"
                " would be taken for dead between two heartbeats",
            )
        queues: dict[str, int] = {}
        for name, _ in self.table(("distributed", "queues"), table.get("queues", {})).items():
            path = ("distributed", "queues", name)
            if not _QUEUE_NAME.fullmatch(name) or name == DEFAULT_QUEUE:
                self.fail(
                    path,
                    "must be an accounting plugin's name (lower-case letters, digits, _),"
                    f" not {DEFAULT_QUEUE!r}",
                )
            queues[name] = self.whole(path, table["queues"], 1, 1)
            if queues[name] > MAX_WORKERS_LIMIT:
                self.fail(path, f"must be a whole number from 1 to {MAX_WORKERS_LIMIT}")
        return Distributed(tick, beat, stalled, MappingProxyType(queues))

    # -- [limits.*] (issue 18, shared rate budgets) --

    def limits(self, data: dict[str, Any]) -> Mapping[str, Budget]:
        """``[limits.<plugin>]`` tables: ``requests`` per ``seconds``, both required."""
        budgets: dict[str, Budget] = {}
        for plugin, value in self.table(("limits",), data.get("limits", {})).items():
            path = ("limits", plugin)
            table = self.table(path, value)
            for key in table:
                if key not in _LIMIT_KEYS:
                    self.fail((*path, key), f"unknown key (known: {', '.join(_LIMIT_KEYS)})")
            for key in _LIMIT_KEYS:
                if key not in table:
                    self.fail(path, f"no {key}; give requests and seconds (whole numbers > 0)")
            budgets[plugin] = Budget(
                requests=self.whole((*path, "requests"), table, 0, 1),
                seconds=self.whole((*path, "seconds"), table, 0, 1),
            )
        return MappingProxyType(budgets)

    def job(self, path: tuple[str, ...], table: dict[str, Any], base: _Spec | None) -> _Spec:
        """Read a ``[jobs.KIND]`` table (``base`` None) or a client's override of it."""
        for key in table:
            if key not in _JOB_KEYS:
                self.fail((*path, key), f"unknown key (known: {', '.join(_JOB_KEYS)})")
        enabled_given = "enabled" in table
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            self.fail((*path, "enabled"), f"must be true or false, not {_show(enabled)}")

        if "trigger" in table:
            kind = table["trigger"]
            if kind not in TRIGGER_KINDS:
                self.fail((*path, "trigger"), f'must be "interval" or "cron", not {_show(kind)}')
            spec = _Spec(kind, {}, None, 0, enabled)
        elif base is not None:
            spec = _Spec(
                base.kind,
                dict(base.fields),
                base.timezone,
                base.jitter,
                enabled if enabled_given else base.enabled,
            )
        elif path[0] == "jobs":
            self.fail(path, 'no trigger; give trigger = "interval" or trigger = "cron"')
        elif set(table) == {"enabled"} and enabled is False:
            return _Spec(None, {}, None, 0, False)
        else:
            self.fail(path, f"no [jobs.{path[-1]}] to override; give trigger")
        assert spec.kind is not None

        if "jitter" in table:
            spec.jitter = self.whole((*path, "jitter"), table, 0, 0)
        if "timezone" in table:
            spec.timezone = self.timezone((*path, "timezone"), table["timezone"])
        own = _FIELDS_OF[spec.kind]
        for key, value in table.items():
            if key in _COMMON_KEYS:
                continue
            if key not in own:
                other = "cron" if spec.kind == "interval" else "interval"
                hint = (
                    ""
                    if "trigger" in table
                    else f" ([jobs.{path[-1]}] is {spec.kind}: give trigger to replace it)"
                )
                self.fail((*path, key), f'only with trigger = "{other}"{hint}')
            if spec.kind == "interval":
                spec.fields[key] = self.whole((*path, key), table, 0, 0)
            else:
                spec.fields[key] = self.cron_field((*path, key), value)

        if spec.kind == "interval":
            if not any(spec.fields.values()):
                self.fail(
                    path,
                    f"an interval of 0; give {', '.join(INTERVAL_FIELDS)} adding up to more than 0",
                )
            try:
                dt.timedelta(**{k: int(v) for k, v in spec.fields.items()})
            except OverflowError:
                self.fail(path, "an interval longer than the calendar (999999999 days)")
        else:
            if not spec.fields:
                self.fail(path, f"a cron trigger needs one of {', '.join(CRON_FIELDS)}")
            try:
                CronTrigger(**spec.fields, timezone=spec.timezone or "UTC")
            except ValueError as e:
                self.fail(path, str(e))
        return spec

    def table(self, path: tuple[str, ...], value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(
                path,
                f"must be a table, not {_show(value)} (`hub run --show-default` prints the"
                " packaged schedule file, with every table and key explained)",
            )
        return value

    def whole(self, path: tuple[str, ...], table: dict[str, Any], default: int, least: int) -> int:
        """``table[path[-1]]`` as a whole number >= ``least`` (bool, though an int, is not)."""
        value = table.get(path[-1], default)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            self.fail(path, f"must be a whole number >= {least}, not {_show(value)}")
        return value

    def timezone(self, path: tuple[str, ...], value: Any) -> str:
        if not isinstance(value, str):
            self.fail(path, f"must be a time zone name such as 'Europe/Oslo', not {_show(value)}")
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail(path, f"{value!r} is not a known IANA time zone (such as 'Europe/Oslo')")
        return value

    def cron_field(self, path: tuple[str, ...], value: Any) -> int | str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(path, f"must be a whole number or a cron expression, not {_show(value)}")
        try:
            CronTrigger(**{path[-1]: value}, timezone="UTC")
        except ValueError as e:
            self.fail(path, str(e))
        return value


def _show(value: Any) -> str:
    """A value as the file would spell it, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(path: Iterable[str]) -> str:
    """``clients."acme.no".sync``: a dotted key, parts quoted where TOML needs it."""
    return ".".join(p if _BARE_KEY.fullmatch(p) else _quote(p) for p in path)


def _quote(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def _syntax_error_line(message: str, text: str) -> int:
    """tomllib says ``(at line N, column M)`` or ``(at end of document)``."""
    found = re.search(r"at line (\d+)", message)
    if found:
        return int(found.group(1))
    if "end of document" in message:
        return max(len(text.splitlines()), 1)
    return 1


# -- where things are in the file ---------------------------------------------------------------

_KEY_PART = r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'"""
_DOTTED_KEY = rf"(?:{_KEY_PART})(?:\s*\.\s*(?:{_KEY_PART}))*"
_HEADER = re.compile(rf"\s*\[\[?\s*({_DOTTED_KEY})\s*\]")
_ASSIGNMENT = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


class _Locator:
    """The line of a dotted key path in the raw text, since tomllib gives none.

    Knows table headers (``[a."b c".d]``; ``[[...]]`` alike) and ``key =`` / ``a.b =`` lines
    inside them; a path is at the first line that names it or something inside it, else at its
    nearest enclosing path's line, else at line 1. Lines inside multi-line strings are skipped.
    Good enough for the files people write; not a TOML parser.
    """

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_string: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if raw.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(raw)
            if header:
                table = _key_parts(header.group(1))
                self._record(table, number)
            else:
                assignment = _ASSIGNMENT.match(raw)
                if assignment:
                    self._record(table + _key_parts(assignment.group(1)), number)
            for quotes in ('"""', "'''"):
                if raw.count(quotes) % 2 == 1:
                    in_string = quotes
                    break

    def _record(self, path: tuple[str, ...], number: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], number)

    def line(self, path: tuple[str, ...]) -> int:
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts: list[str] = []
    for match in re.finditer(_KEY_PART, dotted):
        part = match.group(0)
        if part.startswith("'"):
            parts.append(part[1:-1])
        elif part.startswith('"'):
            try:
                parts.append(tomllib.loads(f"k = {part}")["k"])
            except tomllib.TOMLDecodeError:
                parts.append(part[1:-1])
        else:
            parts.append(part)
    return tuple(parts)
