"""Call one write hook in a fresh Python process, as the hub does after a restart.

A plugin must honour an idempotency key across processes: the core records its intent, calls
the plugin, and after a crash calls again with the same key from a new process. A plugin that
remembers keys in a dict passes any test run inside one process; this module is how the kit
makes the repeat call from another one.

The parent sends a pickle on stdin: the plugin's entry point, the context's fields and
settings, the hook and its argument, and ``sys.path`` (so a plugin importable in the test is
importable here). The child answers with a pickle on stdout: ``("ok", reference)`` or
``("error", error type name, message)``. Logs go to stderr, which the parent reads too.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

from hub.model import ClientContext, PluginSettings

TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Answer:
    """What the fresh process answered."""

    reference: str | None
    error_type: str | None
    error: str | None
    stderr: str


def _context_fields(ctx: ClientContext) -> dict[str, Any]:
    return {
        "client_id": ctx.client_id,
        "client_name": ctx.client_name,
        "plugin": ctx.plugin,
        "country": ctx.country,
        "currency": ctx.currency,
        "timezone": ctx.timezone,
        "today": ctx.today,
    }


def call(entry_point: EntryPoint, ctx: ClientContext, hook: str, argument: object) -> Answer:
    """Call ``ClientPlugin.<hook>(argument)`` for ``ctx`` in a new interpreter."""
    request = {
        "entry_point": (entry_point.name, entry_point.value, entry_point.group),
        "context": _context_fields(ctx),
        "settings": dict(ctx.settings),
        "hook": hook,
        "argument": argument,
        "sys_path": list(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-m", __name__],
        input=pickle.dumps(request),
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    try:
        answer = pickle.loads(done.stdout)
    except Exception:
        return Answer(None, "crash", f"exit {done.returncode}, no answer", stderr)
    if answer[0] == "ok":
        return Answer(answer[1], None, None, stderr)
    return Answer(None, answer[1], answer[2], stderr)


def _serve() -> int:
    from hub.logging import configure, get_logger
    from hub.plugins import load_plugins

    request = pickle.loads(sys.stdin.buffer.read())
    sys.path[:] = request["sys_path"]
    configure(level="INFO")
    registry = load_plugins(entry_points=[EntryPoint(*request["entry_point"])])
    name = request["entry_point"][0]
    out = sys.stdout.buffer
    if name not in registry.infos:
        out.write(pickle.dumps(("error", "PluginError", registry.errors.get(name, "not loaded"))))
        return 1
    info = registry.infos[name]
    fields = request["context"]
    ctx = ClientContext(
        **fields,
        settings=PluginSettings(request["settings"], info.secret_names),
        log=get_logger("hub.plugin", client=fields["client_name"], plugin=name),
    )
    try:
        reference = getattr(registry.for_client(ctx), request["hook"])(request["argument"])
    except Exception as exc:
        out.write(pickle.dumps(("error", type(exc).__name__, str(exc))))
        return 1
    out.write(pickle.dumps(("ok", reference)))
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
