"""The plugin conformance kit: the tests every accounting or delivery plugin should pass.

Subclass :class:`PluginConformance` in your plugin's tests and give it a ``backend`` fixture
returning a :class:`ConformanceBackend` for your fake server or sandbox. See
``docs/plugins.md`` ("Testing your plugin") and the builtin plugins' ``test_*_conformance.py``.
"""

from hub.testing.conformance.backend import ConformanceBackend, Effect, Fault
from hub.testing.conformance.data import ConformanceData, make_data
from hub.testing.conformance.suite import TEST_NAMES, PluginConformance

__all__ = [
    "TEST_NAMES",
    "ConformanceBackend",
    "ConformanceData",
    "Effect",
    "Fault",
    "PluginConformance",
    "make_data",
]
