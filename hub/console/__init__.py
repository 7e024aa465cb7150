"""The console: the hub's web pages and its HTTP API, a front end beside ``hub/cli``.

It calls the operations layer only (``hub/operations``), with one
:class:`~hub.operations.context.Context` per request built from the user who is logged in (a
session cookie, for pages) or whose API token is presented (``Authorization: Bearer``, for
``/api/v1``). :func:`make_app` builds the ASGI app; ``hub web`` serves it, ``hub run
--http-port`` serves the same app beside ``/healthz`` and ``/metrics``. How to add a page or an
API route: docs/console.md.
"""

from __future__ import annotations

from hub.console.app import make_app
from hub.console.settings import ConsoleSettings

__all__ = ["ConsoleSettings", "make_app"]
