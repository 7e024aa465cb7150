"""The letters and e-mails the hub sends to a client's customers, in Danish, Norwegian and English.

:func:`render_letter` turns a :class:`LetterData` (what the letter is about) into a
:class:`RenderedLetter` (subject and plain-text body) in one of :data:`LANGUAGES`;
:func:`letter_language` picks that language from the customer's language and the creditor's
country. The creditor's country (``LetterData.country``) decides which law a letter cites, the
language only how it is worded: a Danish customer of a Norwegian client gets a Danish letter that
cites the Norwegian inkassoforskriften.

Kinds
-----
- ``friendly_reminder``: a reminder without a fee; its deadline is optional.
- ``reminder``: reminder number ``reminder_number`` for one claim, with a deadline and maybe a fee.
- ``customer_reminder``: one consolidated reminder for all of a customer's overdue invoices (the
  balance, with credit notes as negative lines); ``reminder_number`` is optional.
- ``collection_warning``: the warning that the claim goes to collection unless paid by
  ``deadline`` (inkassoloven § 10 in Denmark, § 9 in Norway). With ``reminder_number`` it is also
  that reminder ("Rykker 3 med inkassovarsel", "3. purring med inkassovarsel", "Reminder 3 with
  collection warning"): the subject and heading are numbered and its fee is labelled as that
  reminder's fee; the statutory deadline applies all the same.
- ``collection_notice``: the notice that collection has started because the collection warning's
  ``deadline`` passed unpaid. It names the missed deadline, lists the invoices, the outstanding
  total, the earlier fees and the total, cites the law the warning was given under, and asks for
  payment at once. It never carries a fee of its own.
- ``closing_confirmation``: the case is closed (``closing_reason`` optional); no amounts.

Templates
---------
``hub/dunning/templates/<language>/<kind>.txt.j2``, one per language and kind in :data:`KINDS`.
The first line of the rendered template is ``Subject: <subject>``, the second is blank, the rest is
the body. Files whose names start with ``_`` (``_common.txt.j2``) hold shared macros and are not
letters. The Jinja2 environment (one per language) has ``StrictUndefined`` (a misspelt variable is
an error, not an empty string), autoescape off (plain text), ``trim_blocks`` and ``lstrip_blocks``,
and a *finalize* guard that refuses to print ``None``, a ``Decimal``, a float or a date as they
are: amounts and dates must go through the filters, so a letter never says "None" or "1234.5".

Filters: ``amount`` (:func:`format_amount` in the letter's language; the currency defaults to the
letter's ``currency``, ``{{ x|amount("EUR") }}`` overrides it) and ``date`` (:func:`format_date`).

Variables: every field of :class:`LetterData` under its own name, plus ``total_to_pay``
(``outstanding_total + fees_total``), ``earlier_fees`` (``fees_total - fee``), ``min_days`` (the
least number of days the letter's deadline must give, or None) and ``overdue`` (True when any
invoice's due date is before ``today``).

The body is normalised after rendering: trailing spaces are removed, runs of blank lines become one
blank line, and the body ends with exactly one newline. Templates may therefore be generous with
blank lines around ``{% if %}`` blocks.

Amounts
-------
``Decimal`` only (a float is refused with :class:`TypeError`), quantized to 0.01 with
``ROUND_HALF_UP`` for display only; negative amounts get an ASCII minus sign, and an amount that
rounds to zero is shown without one.

- da: ``1.234,50 kr.`` for DKK, ``1.234,50 EUR`` for any other currency;
- nb: ``1 234,50 kr`` for NOK, ``1 234,50 EUR`` otherwise. The thousands separator is a
  NO-BREAK SPACE (U+00A0, :data:`NB_GROUP_SEPARATOR`) so that an amount is never broken across
  two lines when a mail client wraps the text; the space before the currency is an ordinary space
  in every language;
- en: ``DKK 1,234.50`` (ISO code first; negative ``-DKK 12.50``).

Dates: da and nb ``23.11.2026``, en ``23 November 2026``.

What a letter refuses to say
----------------------------
:func:`render_letter` raises :class:`ValueError` when the data are inconsistent (the invoices do
not add up to ``outstanding_total``, an invoice in another currency, a fee on a friendly reminder
or a collection notice, a missing ``reminder_number`` on a reminder or one below 1 on any letter,
a reminder or collection warning without a ``deadline`` or with one before the letter's date, a
collection notice without a ``deadline`` or with one on or after the letter's date; a friendly
reminder's deadline is optional, and one already past is not printed: the letter then asks for
payment as soon as possible), and
:class:`hub.dunning.law.LawViolation` when the letter would state a deadline the law does not
allow: a collection warning's deadline must be at least the statutory days from the letter's
date (inkassoloven § 10 in Denmark, § 9 in Norway), and a Norwegian reminder, which says that it
gives at least 14 days, must do so (inkassoforskriften § 1-3). The figures come from
:data:`hub.dunning.law.LAW`. Whether a fee is lawful at all (its size, count and timing) is the
flow's and the engine's business, not the letter's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from hub.amounts import NB_GROUP_SEPARATOR, format_number
from hub.dunning.law import LawViolation, law_for

__all__ = [
    "KINDS",
    "LANGUAGES",
    "NB_GROUP_SEPARATOR",
    "TEMPLATE_DIR",
    "LetterData",
    "LetterInvoice",
    "RenderedLetter",
    "dated",
    "format_amount",
    "format_date",
    "letter_from_json",
    "letter_json",
    "letter_language",
    "render_letter",
]


@dataclass(frozen=True)
class LetterInvoice:
    """One invoice as a letter shows it; ``outstanding_amount`` is after partial payments."""

    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    outstanding_amount: Decimal
    currency: str


@dataclass(frozen=True)
class LetterData:
    """Everything a letter says. ``country`` is the creditor's: it decides which law is cited."""

    kind: str
    country: str
    today: dt.date
    creditor_name: str
    payment_details: str | None
    customer_name: str
    customer_number: str
    invoices: tuple[LetterInvoice, ...]
    currency: str
    outstanding_total: Decimal
    fee: Decimal
    fees_total: Decimal
    reminder_number: int | None = None
    deadline: dt.date | None = None
    closing_reason: str | None = None


@dataclass(frozen=True)
class RenderedLetter:
    language: str
    subject: str
    body: str


KINDS: frozenset[str] = frozenset(
    {"friendly_reminder", "reminder", "collection_warning", "collection_notice",
     "customer_reminder", "closing_confirmation"}
)  # fmt: skip
LANGUAGES: tuple[str, ...] = ("da", "nb", "en")

#: Where the templates live; ship ``dunning/templates/*/*.j2`` as package data of ``hub``.
TEMPLATE_DIR: Path = Path(__file__).resolve().parent / "templates"


_COUNTRY_LANGUAGE = {"DK": "da", "NO": "nb"}
_LANGUAGE_ALIASES = {"da": "da", "nb": "nb", "no": "nb", "nn": "nb", "en": "en"}
#: The currency written as a word in a language (the number itself: :func:`format_number`).
_CURRENCY_WORDS: dict[str, dict[str, str]] = {"da": {"DKK": "kr."}, "nb": {"NOK": "kr"}, "en": {}}
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_CURRENCY = re.compile(r"[A-Z]{3}")
_SUBJECT = "Subject: "
#: Kinds that ask for payment and list the invoices with their amounts.
_PAYMENT_KINDS = frozenset({"friendly_reminder", "reminder", "collection_warning",
                            "collection_notice", "customer_reminder"})  # fmt: skip
#: Kinds whose deadline is required and lies ahead (the collection notice's lies behind).
_DEADLINE_KINDS = frozenset({"reminder", "collection_warning", "customer_reminder"})


def letter_language(customer_language: str | None, country: str) -> str:
    """The language to write to a customer in.

    The customer's language when it is one of :data:`LANGUAGES` (case and a region suffix are
    ignored: ``"da-DK"``, ``"EN_gb"``; ``"no"`` and ``"nn"`` count as ``"nb"``), otherwise the
    creditor's country's language: ``da`` for ``"DK"``, ``nb`` for ``"NO"``.

    :raises ValueError: ``country`` is not ``"DK"`` or ``"NO"``.
    """
    try:
        default = _COUNTRY_LANGUAGE[country]
    except KeyError:
        raise ValueError(f"country {country!r}: letters know DK and NO") from None
    if customer_language is None:
        return default
    base = re.split(r"[-_]", customer_language.strip().lower(), maxsplit=1)[0]
    return _LANGUAGE_ALIASES.get(base, default)


def format_amount(amount: Decimal, currency: str, language: str) -> str:
    """An amount as a letter in ``language`` writes it (see the module docstring).

    Exact: the Decimal is quantized to 0.01 with ROUND_HALF_UP for display only, never via float.

    :raises TypeError: ``amount`` is not a Decimal (a float is never an amount).
    :raises ValueError: the amount is not finite, or currency or language is unknown.
    """
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency must be an ISO 4217 code like 'DKK', not {currency!r}")
    try:
        words = _CURRENCY_WORDS[language]
    except KeyError:
        raise ValueError(f"language {language!r}: letters know {', '.join(LANGUAGES)}") from None
    number = format_number(amount, language)
    if language == "en":
        sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
        return f"{sign}{currency} {digits}"
    return f"{number} {words.get(currency, currency)}"


def format_date(d: dt.date, language: str) -> str:
    """``23.11.2026`` in da and nb, ``23 November 2026`` in en.

    :raises ValueError: the language is unknown.
    """
    if language in ("da", "nb"):
        return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"
    if language == "en":
        return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"
    raise ValueError(f"language {language!r}: letters know {', '.join(LANGUAGES)}")


def render_letter(data: LetterData, language: str) -> RenderedLetter:
    """Render ``data`` in ``language`` (one of :data:`LANGUAGES`; see :func:`letter_language`).

    :returns: the subject (one line) and the plain-text body (ending in one newline).
    :raises ValueError: unknown kind, language or country, or inconsistent data (see the module
        docstring).
    :raises hub.dunning.law.LawViolation: the deadline is shorter than the law requires.
    """
    if language not in LANGUAGES:
        raise ValueError(
            f"language {language!r}: letters know {', '.join(LANGUAGES)} "
            "(use letter_language() to choose one)"
        )
    min_days = _check(data)
    context: dict[str, Any] = {f.name: getattr(data, f.name) for f in fields(data)}
    context.update(
        total_to_pay=data.outstanding_total + data.fees_total,
        earlier_fees=data.fees_total - data.fee,
        min_days=min_days,
        overdue=any(inv.due_date < data.today for inv in data.invoices),
    )
    text = _environment(language).get_template(f"{language}/{data.kind}.txt.j2").render(context)
    first, _, rest = text.partition("\n")
    blank, _, body = rest.partition("\n")
    subject = first.removeprefix(_SUBJECT).strip()
    if not first.startswith(_SUBJECT) or not subject or blank.strip():
        raise ValueError(
            f"template {language}/{data.kind}.txt.j2 must begin with 'Subject: ...', a blank line"
        )
    return RenderedLetter(language=language, subject=subject, body=_normalise(body))


def letter_json(data: LetterData) -> dict[str, Any]:
    """``data`` as JSON (amounts as exact strings, dates ISO), for the outbox row: what the
    letter says, so that it can be written again on the day it goes out (:func:`dated`)."""
    values: dict[str, Any] = {}
    for f in fields(data):
        value = getattr(data, f.name)
        if f.name == "invoices":
            value = [
                {
                    "invoice_number": inv.invoice_number,
                    "invoice_date": inv.invoice_date.isoformat(),
                    "due_date": inv.due_date.isoformat(),
                    "outstanding_amount": str(inv.outstanding_amount),
                    "currency": inv.currency,
                }
                for inv in value
            ]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values[f.name] = value
    return values


def letter_from_json(values: dict[str, Any]) -> LetterData:
    """The :class:`LetterData` :func:`letter_json` wrote."""

    def day(raw: str | None) -> dt.date | None:
        return None if raw is None else dt.date.fromisoformat(raw)

    invoices = tuple(
        LetterInvoice(
            inv["invoice_number"],
            dt.date.fromisoformat(inv["invoice_date"]),
            dt.date.fromisoformat(inv["due_date"]),
            Decimal(inv["outstanding_amount"]),
            inv["currency"],
        )
        for inv in values["invoices"]
    )
    return LetterData(
        kind=values["kind"],
        country=values["country"],
        today=dt.date.fromisoformat(values["today"]),
        creditor_name=values["creditor_name"],
        payment_details=values["payment_details"],
        customer_name=values["customer_name"],
        customer_number=values["customer_number"],
        invoices=invoices,
        currency=values["currency"],
        outstanding_total=Decimal(values["outstanding_total"]),
        fee=Decimal(values["fee"]),
        fees_total=Decimal(values["fees_total"]),
        reminder_number=values["reminder_number"],
        deadline=day(values["deadline"]),
        closing_reason=values["closing_reason"],
    )


def dated(data: LetterData, day: dt.date) -> LetterData:
    """The letter as written on ``day`` instead of ``data.today``: a letter that goes out later
    than it was made (it waited for approval, or for the sending window) is dated the day it
    goes out, and a deadline it counts from its date (a reminder's pay-by date, a collection
    warning's statutory days) gives the debtor the same number of days from then. A friendly
    reminder's deadline (the due date) and a collection notice's (the warning's, missed) are
    fixed dates and stay."""
    if day == data.today:
        return data
    deadline = data.deadline
    if deadline is not None and data.kind in _DEADLINE_KINDS:
        deadline = deadline + (day - data.today)
    return replace(data, today=day, deadline=deadline)


def _check(data: LetterData) -> int | None:
    """Refuse data a letter cannot honestly state; return the deadline's least number of days."""
    if data.kind not in KINDS:
        raise ValueError(f"kind {data.kind!r}: letters are {', '.join(sorted(KINDS))}")
    if data.country not in _COUNTRY_LANGUAGE:
        raise ValueError(f"country {data.country!r}: letters know DK and NO")
    law = law_for(data.country)
    if not data.invoices:
        raise ValueError(f"{data.kind}: a letter is about at least one invoice")
    for name in ("creditor_name", "customer_name", "customer_number", "currency"):
        _check_line(name, getattr(data, name))
    if data.closing_reason is not None:
        _check_line("closing_reason", data.closing_reason)
    if data.reminder_number is not None and data.reminder_number < 1:
        raise ValueError(
            f"{data.kind}: reminder_number must be 1 or more, not {data.reminder_number}"
        )
    for name in ("outstanding_total", "fee", "fees_total"):
        value = getattr(data, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"LetterData.{name} must be a finite Decimal, not {value!r}")
    for inv in data.invoices:
        if inv.currency != data.currency:
            raise ValueError(
                f"invoice {inv.invoice_number} is in {inv.currency}, the letter in {data.currency}"
            )
    if data.fee < 0 or data.fees_total < data.fee:
        raise ValueError(
            f"fee {data.fee} and fees_total {data.fees_total}: need 0 <= fee <= fees_total"
        )
    if data.kind not in _PAYMENT_KINDS:
        return None
    listed = sum((inv.outstanding_amount for inv in data.invoices), Decimal(0))
    if listed != data.outstanding_total:
        raise ValueError(
            f"the invoices add up to {listed}, but outstanding_total is {data.outstanding_total}"
        )
    if data.outstanding_total <= 0:
        raise ValueError(
            f"{data.kind}: nothing is owed (outstanding_total {data.outstanding_total})"
        )
    if data.kind == "friendly_reminder" and data.fee != 0:
        raise ValueError(f"a friendly reminder carries no fee (fee {data.fee})")
    if data.kind == "reminder" and data.reminder_number is None:
        raise ValueError("reminder: reminder_number must be 1 or more, not None")
    if data.kind == "collection_notice":
        _check_collection_notice(data)
        return None
    if data.kind not in _DEADLINE_KINDS:
        return None  # a friendly reminder's deadline is optional; one already past is not shown
    if data.deadline is None:
        raise ValueError(f"{data.kind}: a deadline is required")
    days = (data.deadline - data.today).days
    if days < 0:
        raise ValueError(f"deadline {data.deadline} is before the letter's date {data.today}")
    min_days: int | None = None
    rule = ""
    if data.kind == "collection_warning":
        min_days, rule = law.collection_warning_days, law.warning_rule
    elif data.kind in _DEADLINE_KINDS and data.country == "NO":
        # The Norwegian reminder says it gives at least 14 days: the deadline whose missing
        # allows a second fee (inkassoforskriften § 1-3).
        min_days, rule = law.min_days_between_fee_reminders, law.spacing_rule
    if min_days is not None and days < min_days:
        raise LawViolation(
            f"{data.kind} dated {data.today} with deadline {data.deadline} gives {days} days; "
            f"{rule} requires at least {min_days}"
        )
    return min_days


def _check_collection_notice(data: LetterData) -> None:
    """The notice reports a missed deadline: it needs one, already passed, and adds no fee."""
    if data.fee != 0:
        raise ValueError(f"a collection notice carries no fee of its own (fee {data.fee})")
    if data.deadline is None:
        raise ValueError(
            "collection_notice: a deadline is required (the collection warning's, now missed)"
        )
    if data.deadline >= data.today:
        raise ValueError(
            f"collection_notice: the collection warning's deadline {data.deadline} has not "
            f"passed on the letter's date {data.today}"
        )


def _check_line(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\r" in value:
        raise ValueError(f"LetterData.{name} must be one non-empty line of text, not {value!r}")


def _finalize(value: object) -> object:
    """Refuse to print a value that has not been through a filter (or that is missing)."""
    if value is None:
        raise jinja2.TemplateRuntimeError("a letter would print 'None': test the value first")
    if isinstance(value, (Decimal, float, dt.date)):
        raise jinja2.TemplateRuntimeError(
            f"a letter would print {value!r} raw: use the amount or date filter"
        )
    return value


@cache
def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_finalize,
    )

    @jinja2.pass_context
    def amount(ctx: jinja2.runtime.Context, value: Decimal, currency: str | None = None) -> str:
        return format_amount(value, currency or str(ctx["currency"]), language)

    def date(value: dt.date) -> str:
        return format_date(value, language)

    env.filters["amount"] = amount
    env.filters["date"] = date
    return env


def _normalise(body: str) -> str:
    lines = [line.rstrip() for line in body.strip("\n").splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
