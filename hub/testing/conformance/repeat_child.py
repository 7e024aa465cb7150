"""The fresh process of :mod:`hub.testing.conformance.fresh_process`: load the plugin from its
entry point, build the context, call the hook once, answer on the file descriptor given.

Not imported by the kit (``python -m`` runs it), so it starts as clean as the hub after a
restart: no plugin state, no caches, default HTTP options.
"""

from __future__ import annotations

import os
import pickle
import sys
from importlib.metadata import EntryPoint


def main(answer_fd: int) -> int:
    request = pickle.loads(sys.stdin.buffer.read())
    sys.path[:] = request["sys_path"]

    from hub.logging import configure, get_logger
    from hub.model import ClientContext, PluginSettings
    from hub.plugins import load_plugins

    configure(level="DEBUG")
    with os.fdopen(answer_fd, "wb") as answer:
        registry = load_plugins(
            entry_points=[EntryPoint(*request["entry_point"])], honour_environment=False
        )
        name = request["entry_point"][0]
        if name not in registry.infos:
            reason = registry.errors.get(name, "not loaded")
            pickle.dump(("error", "PluginError", reason), answer)
            return 1
        fields = request["context"]
        ctx = ClientContext(
            **fields,
            settings=PluginSettings(request["settings"], registry.infos[name].secret_names),
            log=get_logger("hub.plugin", client=fields["client_name"], plugin=name),
        )
        try:
            reference = getattr(registry.for_client(ctx), request["hook"])(request["argument"])
        except Exception as exc:
            pickle.dump(("error", type(exc).__name__, str(exc)), answer)
            return 1
        pickle.dump(("ok", reference), answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
