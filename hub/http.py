"""Kept for plugins written against ``hub.http``: the module is :mod:`hub.toolkit.http`."""

from hub.toolkit.http import *  # noqa: F403
from hub.toolkit.http import __all__ as __all__
