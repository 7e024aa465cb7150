"""Every route an app serves, whichever way FastAPI keeps them: older versions list the
included routers' routes in ``app.routes``, newer ones keep each included router as one entry
and offer :func:`fastapi.routing.iter_route_contexts` to walk them."""

from __future__ import annotations

from dataclasses import dataclass

import fastapi.routing
from starlette.applications import Starlette


@dataclass(frozen=True)
class Served:
    """A route: its path (with ``{parameters}``), methods (none for a mount) and name."""

    path: str
    methods: frozenset[str]
    name: str | None


def served_routes(app: Starlette) -> list[Served]:
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(walk(app.routes)) if walk is not None else list(app.routes)
    served = []
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            methods = frozenset(getattr(route, "methods", None) or ())
            served.append(Served(path, methods, getattr(route, "name", None)))
    return served
