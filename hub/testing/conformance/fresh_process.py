"""Call one write hook in a fresh Python process, as the hub does after a restart.

A plugin must honour an idempotency key across processes: the core records its intent, calls
the plugin, and after a crash calls again with the same key from a new process. A plugin that
remembers keys in a dict passes any test run inside one process; this module is how the kit
makes the repeat call from another one (:mod:`hub.testing.conformance.repeat_child`).

The request goes as a pickle on the child's stdin (settings never in its arguments or
environment); the answer comes back as a pickle on a pipe of its own, so that whatever the
plugin prints cannot garble it. The child's stdout and stderr (its logs) are read too.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint

from hub.model import ClientContext

TIMEOUT_SECONDS = 120
CHILD = "hub.testing.conformance.repeat_child"


@dataclass(frozen=True)
class Answer:
    """What the fresh process answered, and what it wrote besides."""

    reference: str | None
    error_type: str | None
    error: str | None
    output: str

    @property
    def failure(self) -> str:
        return f"{self.error_type}: {self.error}"


def call(
    entry_point: EntryPoint,
    ctx: ClientContext,
    hook: str,
    argument: object,
    *,
    days_later: int = 1,
) -> Answer:
    """Call ``ClientPlugin.<hook>(argument)`` for ``ctx``'s client in a new interpreter, on a
    later day (``ctx.today`` moved on): a restart is often the next morning, and what a
    repeat writes must come from the request, not from the day it is made."""
    request = pickle.dumps(
        {
            "entry_point": (entry_point.name, entry_point.value, entry_point.group),
            "context": {
                "client_id": ctx.client_id,
                "client_name": ctx.client_name,
                "plugin": ctx.plugin,
                "country": ctx.country,
                "currency": ctx.currency,
                "timezone": ctx.timezone,
                "today": ctx.today + dt.timedelta(days=days_later),
            },
            "settings": dict(ctx.settings),
            "hook": hook,
            "argument": argument,
            "sys_path": list(sys.path),
        }
    )
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", CHILD, str(write_end)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as answers:
        try:
            output, _ = child.communicate(request, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
            text = output.decode("utf-8", "replace")
            return Answer(None, "Timeout", f"no answer in {TIMEOUT_SECONDS} s", text)
        raw = answers.read()
    text = output.decode("utf-8", "replace")
    try:
        answer = pickle.loads(raw)
    except Exception:
        return Answer(
            None, "Crash", f"the process ended (exit {child.returncode}) unanswered", text
        )
    if answer[0] == "ok":
        return Answer(answer[1], None, None, text)
    return Answer(None, answer[1], answer[2], text)
