"""The conformance kit catches what it promises to catch, and says what to fix.

A toy plugin (``tests/kit/kit_toy_plugin.py``, whose "system" is a JSON file) passes the kit
when sound; each ``KIT_TOY_FLAW`` breaks the contract one way, and the kit, run by pytest's
own ``pytester``, must fail that flaw's test with a message that names the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

KIT_DIR = Path(__file__).resolve().parent / "kit"
# The hub is imported before pytester's inner session marks it for assertion rewriting.
QUIET = ("-W", "ignore::pytest.PytestAssertRewriteWarning")

TOY_TESTS = f"""
import sys
sys.path.insert(0, {str(KIT_DIR)!r})

from importlib.metadata import EntryPoint

import pytest
from kit_toy_backend import ToyBackend

from hub.testing.conformance import PluginConformance


class TestToyConformance(PluginConformance):
    plugin = "kit_toy"
    opt_out = OPT_OUT

    @pytest.fixture
    def entry_point(self):
        return EntryPoint(name="kit_toy", value="kit_toy_plugin", group="receivables_hub")

    @pytest.fixture
    def backend(self, tmp_path):
        return ToyBackend(tmp_path / "books.json")
"""


def toy_tests(opt_out: str = "{}") -> str:
    return TOY_TESTS.replace("OPT_OUT", opt_out)


def test_a_sound_plugin_passes_the_kit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_toy=toy_tests())
    result = pytester.runpytest(*QUIET, "-rs")
    # journal, invoice, order and message: capabilities the toy does not declare
    result.assert_outcomes(passed=16, skipped=4)
    result.stdout.fnmatch_lines(["*does not declare the capability 'journal'*"])


FLAWS = [
    (
        "float_amounts",
        "test_open_invoices_are_exactly_the_open_ones",
        "*must be a Decimal*To fix: parse amounts from the system's text as decimal.Decimal*",
    ),
    (
        "first_page_only",
        "test_open_invoices_cover_every_page",
        "*more than two pages of 10: follow every page*",
    ),
    (
        "unknown_is_paid",
        "test_unknown_invoice_numbers_are_unknown",
        "*must be InvoiceState.UNKNOWN*",
    ),
    (
        "not_idempotent",
        "test_credit_note_once_per_key",
        "*same idempotency_key made * more credit note(s)*",
    ),
    (
        "in_process_dedupe",
        "test_credit_note_once_per_key",
        "*honour the key across processes*",
    ),
    (
        "unmapped_errors",
        "test_throttling_raises_throttled_error",
        "*every hook must raise hub.errors.ThrottledError*raised PluginError*RuntimeError: 429*",
    ),
    (
        "leaks_token",
        "test_secrets_never_appear_in_logs_or_errors",
        "*the value of 'api_token' in log event 'toy.open'*",
    ),
    (
        "leak_on_retry",
        "test_secrets_never_appear_in_logs_or_errors",
        "*the value of 'api_token' in log event 'toy.retrying'*",
    ),
    (
        "status_defaults",
        "test_malformed_answers_raise_invalid_data_error",
        "*fetch_invoice_status() answered, and wrongly: 70001 is paid, not open*",
    ),
    (
        "unmapped_in_writes",
        "test_refused_credentials_raise_auth_error",
        "*create_credit_note() raised PluginError*RuntimeError: 401*",
    ),
    (
        "one_per_number",
        "test_batched_reads_are_batched",
        "*fetch_invoice_status() made * requests for * numbers*ask for many numbers a request*",
    ),
    (
        "insecure_schema",
        "test_settings_schema_is_sound",
        "*setting 'api_token': its name says it is a credential; declare it secret=True*",
    ),
]


@pytest.mark.parametrize(("flaw", "failing_test", "message"), FLAWS, ids=[f[0] for f in FLAWS])
def test_the_kit_fails_a_broken_plugin_saying_what_to_fix(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    flaw: str,
    failing_test: str,
    message: str,
) -> None:
    monkeypatch.setenv("KIT_TOY_FLAW", flaw)
    pytester.makepyfile(test_toy=toy_tests())
    result = pytester.runpytest(*QUIET, "-k", failing_test)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])


def test_a_leak_in_any_test_fails_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch is on in every test of the kit, not only in the secrets test: the throttling
    test, where the toy logs its token, errors at teardown naming the leak."""
    monkeypatch.setenv("KIT_TOY_FLAW", "leak_on_retry")
    pytester.makepyfile(test_toy=toy_tests())
    result = pytester.runpytest(*QUIET, "-k", "test_throttling_raises_throttled_error")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*a secret leaked: the value of 'api_token'*"])
    assert "toy-token-5e0c1b9d" not in result.stdout.str()


def test_a_kit_test_cannot_be_redefined(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_toy=toy_tests() + "\n    def test_credit_note_once_per_key(self):\n        pass\n"
    )
    result = pytester.runpytest(*QUIET)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*'test_credit_note_once_per_key' is redefined*opt out*"])


def test_the_kit_ignores_the_operators_plugin_switches(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "economic")
    monkeypatch.setenv("HUB_BLOCK_PLUGINS", "kit_toy")
    pytester.makepyfile(test_toy=toy_tests())
    result = pytester.runpytest(*QUIET, "-k", "loads or credit_note")
    result.assert_outcomes(passed=2)


def test_an_opt_out_needs_a_written_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_toy=toy_tests('{"test_throttling_raises_throttled_error": ""}'))
    result = pytester.runpytest(*QUIET)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*opt_out: 'test_throttling_raises_throttled_error' needs a written reason*"]
    )


def test_an_opt_out_must_name_a_test_of_the_kit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_toy=toy_tests('{"test_throttling": "the toy is never throttled"}'))
    result = pytester.runpytest(*QUIET)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*'test_throttling' is not a test of the kit*"])


def test_opt_outs_are_listed_with_their_reasons(pytester: pytest.Pytester) -> None:
    reason = "the toy's file is never throttled"
    pytester.makepyfile(
        test_toy=toy_tests(f'{{"test_throttling_raises_throttled_error": {reason!r}}}')
    )
    result = pytester.runpytest(*QUIET, "-m", "conformance")
    result.assert_outcomes(passed=15, skipped=5)
    result.stdout.fnmatch_lines(
        ["*plugin conformance: opted out*", f"*test_throttling_raises_throttled_error: {reason}"]
    )
