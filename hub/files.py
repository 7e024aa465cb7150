"""Kept for plugins written against ``hub.files``: the module is :mod:`hub.toolkit.files`."""

from hub.toolkit.files import *  # noqa: F403
from hub.toolkit.files import __all__ as __all__
