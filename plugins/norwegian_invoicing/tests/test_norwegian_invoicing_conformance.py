"""The Tripletex plugin against the hub's plugin conformance kit, with the fake Tripletex as the
system behind it (see :mod:`tripletex_backend`). Nothing is opted out. Every exchange of the
kit's tests with the fake is checked against Tripletex's OpenAPI spec as well."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import ClassVar

import pytest
from norwegian_invoicing_support import spec_problems
from tripletex_backend import TripletexBackend

from hub.testing.conformance import ConformanceBackend, PluginConformance
from hub.testing.fakes.tripletex import spec as tripletex_spec


class TestNorwegianInvoicingConformance(PluginConformance):
    plugin = "norwegian_invoicing"
    backend_class = TripletexBackend
    #: Nothing: every test of the kit for the capabilities declared applies to Tripletex.
    opt_out: ClassVar[Mapping[str, str]] = {}

    @pytest.fixture(autouse=True)
    def exchanges_match_the_spec(self, backend: ConformanceBackend) -> Iterator[None]:
        """After each kit test: what the plugin sent (here and from the fresh process) and what
        it got back validates against Tripletex's OpenAPI spec."""
        reason = tripletex_spec.spec_missing_reason()
        if reason is not None:
            warnings.warn(
                f"exchanges not validated against Tripletex's spec: {reason}", stacklevel=1
            )
        yield
        if reason is None:
            assert isinstance(backend, TripletexBackend)
            problems = spec_problems(backend.fake)
            assert problems == [], f"{len(problems)} exchange(s) do not fit Tripletex's spec:\n" + (
                "\n".join(problems[:5])
            )
