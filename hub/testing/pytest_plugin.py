"""The hub's pytest plugin (entry point ``pytest11``), loaded wherever the hub is installed.

It marks every test of a :class:`~hub.testing.conformance.PluginConformance` subclass
``conformance`` (so ``pytest -m conformance`` runs only the kit) and ends the report with the
tests each plugin opted out of, and why: an opt-out is a decision a reviewer should see.
"""

from __future__ import annotations

import pytest

_OPT_OUT_PREFIX = "opted out: "


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "conformance: a test of the receivables hub's plugin conformance kit"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from hub.testing.conformance import PluginConformance

    for item in items:
        cls = getattr(item, "cls", None)
        if cls is not None and issubclass(cls, PluginConformance):
            item.add_marker(pytest.mark.conformance)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    opted_out = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            reason = str(longrepr[2]).removeprefix("Skipped: ")
            if reason.startswith(_OPT_OUT_PREFIX):
                opted_out.append((report.nodeid, reason.removeprefix(_OPT_OUT_PREFIX)))
    if opted_out:
        terminalreporter.section("plugin conformance: opted out")
        for nodeid, reason in opted_out:
            terminalreporter.write_line(f"{nodeid}: {reason}")
