"""The contract stays documented and tested (as datasette does for its hooks)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hub import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")
)


def test_the_contract_has_the_hooks_integrators_expect() -> None:
    assert (
        sorted(
            [
                "system_info",
                "check_settings",
                "fetch_open_invoices",
                "fetch_invoice_status",
                "fetch_customer_balance",
                "fetch_customers",
                "create_credit_note",
                "post_journal_lines",
                "create_invoice",
                "deliver_message",
            ]
        )
        == HOOKS
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_in_plugins_md_with_its_arguments(hook: str) -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({params})" in doc, f"docs/plugins.md lacks a '### {hook}({params})' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_full_docstring(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert ":returns:" in doc and ":raises" in doc, f"{hook} docstring lacks :returns:/:raises:"
    for param in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {param}:" in doc, f"{hook} docstring does not document {param}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", sources), f"no test_hook_{hook} in tests/"
