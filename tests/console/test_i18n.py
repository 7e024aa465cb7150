"""The console's words: every key in all three languages, every key asked for exists, and
amounts and dates as each language writes them."""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest

from hub.console import i18n
from hub.console.rendering import NAV, TEMPLATES
from hub.operations.users import LANGUAGES, ROLES

CONSOLE = Path(i18n.__file__).parent


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_is_in_all_three_languages_with_the_same_placeholders() -> None:
    assert set(i18n.CATALOGUE) == set(LANGUAGES) == {"da", "nb", "en"}
    english = i18n.CATALOGUE["en"]
    for language, words in i18n.CATALOGUE.items():
        assert set(words) == set(english), (
            language,
            sorted(set(english) ^ set(words)),
        )
        for key, text in words.items():
            assert text.strip(), (language, key)
            assert _placeholders(text) == _placeholders(english[key]), (language, key)


def _asked_for() -> set[str]:
    """The keys the templates and the pages' code ask for by name."""
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", template.read_text()))
    for module in CONSOLE.rglob("*.py"):
        text = module.read_text()
        keys |= set(re.findall(r"""\(\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""", text))
        keys |= set(re.findall(r"""flash\([^)]*?["'](?:ok|error)["'],\s*["']([^"']+)["']""", text))
    return keys


def test_every_key_a_template_or_page_asks_for_exists() -> None:
    asked = _asked_for()
    known = set(i18n.CATALOGUE["en"])
    assert {"login.title", "users.added", "account.saved", "overview.welcome"} <= asked
    # the dotted strings in code that are not keys (module names, headers) are told apart by
    # their first part: only the catalogue's areas are keys
    areas = {key.split(".")[0] for key in known}
    asked = {key for key in asked if not key.endswith(".")}  # t("role." ~ role): made, below
    missing = {key for key in asked if key.split(".")[0] in areas} - known
    assert not missing, sorted(missing)
    # the keys made at run time: a role's name, the navigation, the error pages
    made = {f"role.{role}" for role in ROLES} | {key for key, _, _ in NAV}
    made |= {"error.403.title", "error.404.title", "error.csrf"}
    assert made <= known, sorted(made - known)


def test_a_missing_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        i18n.Words("da")("no.such.key")
    assert i18n.Words("da")("users.added", name="eve") == "Brugeren eve er tilføjet."
    assert i18n.Words("xx").lang == "en"


@pytest.mark.parametrize(
    ("language", "written"),
    [("da", "1.234,50 kr."), ("nb", "1\u00a0234,50 kr"), ("en", "DKK 1,234.50")],
)
def test_amounts_are_written_as_the_letters_write_them(language: str, written: str) -> None:
    currency = "NOK" if language == "nb" else "DKK"
    assert i18n.amount(Decimal("1234.5"), currency, language) == written


def test_a_foreign_currency_is_written_by_its_code() -> None:
    assert i18n.amount(Decimal("-1234.5"), "NOK", "da") == "-1.234,50 NOK"
    assert i18n.amount(Decimal("1000000"), "DKK", "nb") == "1\u00a0000\u00a0000,00 DKK"


def test_dates_and_times() -> None:
    day = dt.date(2026, 1, 31)
    assert i18n.date(day, "da") == i18n.date(day, "nb") == "31.01.2026"
    assert i18n.date(day, "en") == "2026-01-31"
    moment = dt.datetime(2026, 1, 31, 22, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert i18n.date(moment, "da") == "31.01.2026 21:05 UTC"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("de-DE,de;q=0.9", "en"),
        ("da-DK,da;q=0.9,en;q=0.5", "da"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en;q=0.4, da;q=0.8", "da"),
        ("da;q=0, en", "en"),
    ],
)
def test_the_browsers_language_before_login(header: str | None, language: str) -> None:
    assert i18n.negotiate(header) == language
