"""The receivables integration hub."""

import pluggy

from hub.hookspecs import PROJECT_NAME

__version__ = "0.1.0"

#: Decorate a plugin's hook implementations with this.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["__version__", "hookimpl"]
