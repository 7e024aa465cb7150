"""The e-conomic plugin against the hub's plugin conformance kit, with the fake e-conomic server
as the system behind it (see :mod:`economic_backend`). Nothing is opted out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from economic_backend import EconomicBackend

from hub.testing.conformance import PluginConformance


class TestEconomicConformance(PluginConformance):
    plugin = "economic"
    backend_class = EconomicBackend
    #: Nothing: every test of the kit applies to e-conomic.
    opt_out: ClassVar[Mapping[str, str]] = {}
