"""The schedule arithmetic of a recurring agreement (rules G1–G5): pure functions of its terms.

Nothing here reads a clock or a database; :func:`plan` is the whole truth about which invoices
an agreement makes, on which days and for how much, and both ``hub recurring preview`` and the
generator use it.

The model, and the choices where the seed is silent (see docs/recurring.md):

* Invoice ``k`` (from 0) is dated ``d(k)``: the first invoice date plus ``k`` intervals, month
  and year arithmetic anchored to the first date (G2: 31 Jan → 28/29 Feb → 31 Mar, no drift).
* It is generated on ``d(k) − preparation days`` (G1) and bills in advance the period
  ``d(k) … d(k+1) − 1``. Its due date is its invoice date with "no credit days", otherwise the
  invoice date plus the payment days.
* A ``fixed`` line is billed as it stands on every invoice. A line priced per month, quarter or
  year is scaled to the period (G4): by whole months where the interval is in months or years
  (monthly dispatch of a quarterly price of 15 000 → 5 000), and day by day otherwise.
* Days outside whole periods are prorated day by day: each day is worth the monthly price
  divided by the days of its own calendar month (21–31 Oct is 11/31 of a month) (G5).
  The first invoice also bills the days after the agreement date up to the first invoice date
  (the agreement date itself is not billed).
* The end date is the last day the agreement covers (G3, seed 004: "when the end date is
  reached, it is set inactive"). Every invoice dated on or before it is made, whatever its
  lines; one dated after it is not. The last invoice's period is cut at the end date, and its
  periodic lines bill the days from its date up to the end date, prorated day by day (the
  surplus days of G5: they are on the last invoice, the one whose period holds the end date).
  With a maximum count, the agreement ends after that many invoices (G3). The agreement
  becomes inactive once it has made its last invoice *and* its end is reached: at once after
  the maximum count, but not before the end date's day when the end date ends it.
* Amounts: a scaled unit price is rounded half up to øre (what an invoice line can carry), and a
  line's amount is quantity × unit price, rounded half up to øre. Totals are net: VAT is the
  accounting system's, by each line's VAT code.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal, get_args

from hub.amounts import CENT, LIMIT, ZERO
from hub.errors import InputError

Unit = Literal["day", "week", "month", "year"]
PriceFactor = Literal["fixed", "month", "quarter", "year"]
Produce = Literal["invoice", "order"]

UNITS: tuple[str, ...] = get_args(Unit)
PRICE_FACTORS: tuple[str, ...] = get_args(PriceFactor)
PRODUCES: tuple[str, ...] = get_args(Produce)

#: Months a price factor's price is for.
FACTOR_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: An agreement may plan this many invoices at most (a daily agreement over 30 years is
#: 10 950); it keeps a mistyped interval from planning forever.
MAX_INVOICES = 20_000
#: Ranges a person may type; beyond them the input is surely a mistake.
MAX_EVERY = 1_000
MAX_PREP_DAYS = 365
MAX_PAYMENT_DAYS = 365

_ONE_DAY = dt.timedelta(days=1)


class AgreementError(InputError):
    """Terms that make no agreement; the message names the term and the reason."""


@dataclass(frozen=True)
class AgreementLine:
    """A line of an agreement: ``unit_price`` (net) is per invoice (``fixed``) or for a month,
    quarter or year of service (the price factor)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    price_factor: str = "fixed"
    vat_code: str | None = None

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise AgreementError("line: the description is empty")
        if ";" in self.description or "\n" in self.description:
            raise AgreementError(f"line {self.description!r}: a description has no ';' or newline")
        for name in ("quantity", "unit_price"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise AgreementError(f"line {self.description!r}: {name} {value!r} is not exact")
            if value != value.quantize(CENT):
                raise AgreementError(
                    f"line {self.description!r}: {name} {value} has more than two decimals"
                )
        if self.quantity <= 0:
            raise AgreementError(
                f"line {self.description!r}: quantity {self.quantity} must be more than 0"
            )
        if self.unit_price < 0:
            raise AgreementError(
                f"line {self.description!r}: unit price {self.unit_price} is negative;"
                " a recurring agreement bills, it does not credit"
            )
        if self.price_factor not in PRICE_FACTORS:
            raise AgreementError(
                f"line {self.description!r}: price factor {self.price_factor!r} is not one of"
                f" {', '.join(PRICE_FACTORS)}"
            )


@dataclass(frozen=True, kw_only=True)
class TermsOptions:
    """What an agreement may say beyond its period, first date and lines, each with the
    default it has when not said (shared by :class:`Terms` and the request that makes them)."""

    produce: str = "invoice"
    prep_days: int = 0
    agreement_date: dt.date | None = None
    end_date: dt.date | None = None
    max_count: int | None = None
    no_credit_days: bool = False
    payment_days: int = 14


@dataclass(frozen=True)
class Terms(TermsOptions):
    """What an agreement says about when and what to bill (everything :func:`plan` needs)."""

    every: int
    unit: str
    first_invoice_date: dt.date
    lines: tuple[AgreementLine, ...]
    currency: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise AgreementError(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.produce not in PRODUCES:
            raise AgreementError(f"produce {self.produce!r} is not one of {', '.join(PRODUCES)}")
        _in_range("every", self.every, 1, MAX_EVERY)
        _in_range("preparation days", self.prep_days, 0, MAX_PREP_DAYS)
        _in_range("payment days", self.payment_days, 0, MAX_PAYMENT_DAYS)
        if self.max_count is not None:
            _in_range("maximum count", self.max_count, 1, MAX_INVOICES)
        if not self.lines:
            raise AgreementError("an agreement needs at least one line")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise AgreementError(f"currency {self.currency!r} is not an ISO code like NOK")
        if self.agreement_date is not None and self.agreement_date > self.first_invoice_date:
            raise AgreementError(
                f"agreement date {self.agreement_date} is after the next invoice date"
                f" {self.first_invoice_date}: the agreement date is the day before billing starts"
            )
        if self.end_date is not None and self.end_date < self.first_invoice_date:
            raise AgreementError(
                f"end date {self.end_date} is before the next invoice date"
                f" {self.first_invoice_date}: the agreement would bill nothing"
            )
        invoice_date(self, 1)  # the first period's end is on the calendar


def _in_range(what: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AgreementError(f"{what} {value!r} must be a whole number from {low} to {high}")


@dataclass(frozen=True)
class PlannedLine:
    """A line of a planned invoice; ``period_start``/``period_end`` are the days it bills
    (``None`` for a fixed line)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    vat_code: str | None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class PlannedInvoice:
    """Invoice number ``sequence`` (from 0) of an agreement, as :func:`plan` makes it."""

    sequence: int
    generate_on: dt.date
    invoice_date: dt.date
    due_date: dt.date
    period_start: dt.date
    period_end: dt.date
    lines: tuple[PlannedLine, ...]
    currency: str

    @property
    def total(self) -> Decimal:
        """The net total: the sum of the lines."""
        return sum((line.amount for line in self.lines), ZERO)

    def as_dict(self) -> dict[str, object]:
        """The preview's JSON: dates as ISO strings, amounts as strings."""
        return {
            "sequence": self.sequence,
            "generate_on": self.generate_on.isoformat(),
            "invoice_date": self.invoice_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "currency": self.currency,
            "lines": [
                {
                    "description": line.description,
                    "quantity": str(line.quantity),
                    "unit_price": str(line.unit_price),
                    "amount": str(line.amount),
                    "vat_code": line.vat_code,
                }
                for line in self.lines
            ],
            "total": str(self.total),
        }


# -- dates ---------------------------------------------------------------------------------------


def add_months(anchor: dt.date, months: int) -> dt.date:
    """``anchor`` plus ``months`` calendar months, on the anchor's day or the month's last day
    where the month is shorter (31 Jan + 1 → 28/29 Feb; + 2 → 31 Mar)."""
    years, month0 = divmod(anchor.month - 1 + months, 12)
    year = anchor.year + years
    if not 1 <= year <= 9999:
        raise AgreementError(f"the schedule runs past the calendar ({anchor} + {months} months)")
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.date(year, month0 + 1, day)


def invoice_date(terms: Terms, k: int) -> dt.date:
    """The date of invoice ``k`` (from 0): always counted from the first date (G2)."""
    n = k * terms.every
    if terms.unit == "month":
        return add_months(terms.first_invoice_date, n)
    if terms.unit == "year":
        return add_months(terms.first_invoice_date, 12 * n)
    days = n * (7 if terms.unit == "week" else 1)
    try:
        return terms.first_invoice_date + dt.timedelta(days=days)
    except OverflowError:
        raise AgreementError(
            f"the schedule runs past the calendar ({terms.first_invoice_date} + {days} days)"
        ) from None


def _is_made(terms: Terms, k: int) -> bool:
    """Whether invoice ``k`` exists (G3 and the end-date rule of the module's docstring)."""
    if k < 0 or k >= MAX_INVOICES:
        return False
    if terms.max_count is not None and k >= terms.max_count:
        return False
    return _within_end_date(terms, k)


def _within_end_date(terms: Terms, k: int) -> bool:
    """Whether the end date lets invoice ``k`` be made: it is dated on or before the end date
    (G3: the agreement goes on until its end date is reached)."""
    return terms.end_date is None or invoice_date(terms, k) <= terms.end_date


def count(terms: Terms) -> int | None:
    """How many invoices the agreement makes in all; ``None`` if it runs until stopped."""
    if terms.end_date is None and terms.max_count is None:
        return None
    k = 0
    while _is_made(terms, k):
        k += 1
    return k


# -- amounts -------------------------------------------------------------------------------------


def _round(value: Fraction | Decimal, what: str) -> Decimal:
    """``value`` rounded half up to øre, exactly (in whole øre, never through a Decimal
    context's precision); an amount the money columns cannot hold is refused."""
    hundredths = Fraction(value) * 100
    whole, rest = divmod(abs(hundredths.numerator), hundredths.denominator)
    if 2 * rest >= hundredths.denominator:
        whole += 1
    if whole >= LIMIT * 100:
        raise AgreementError(f"{what}: the amount is too large (the limit is {LIMIT:,})")
    return Decimal(-whole if hundredths < 0 else whole).scaleb(-2)


def months_by_days(start: dt.date, end: dt.date) -> Fraction:
    """The span ``start … end`` (both included) in months, each day counted as a share of its
    own calendar month (21–31 October = 11/31)."""
    total = Fraction(0)
    day = start
    while day <= end:
        last_of_month = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        upto = min(end, last_of_month)
        total += Fraction((upto - day).days + 1, last_of_month.day)
        day = upto + _ONE_DAY
    return total


def _period_months(terms: Terms, start: dt.date, end: dt.date, whole: bool) -> Fraction:
    """A billed span in months: a whole period of a month or year interval is its number of
    months (G4); anything else is counted by days."""
    if whole and terms.unit in ("month", "year"):
        return Fraction(terms.every * (12 if terms.unit == "year" else 1))
    return months_by_days(start, end)


def _scaled(line: AgreementLine, months: Fraction, start: dt.date, end: dt.date) -> PlannedLine:
    """A periodic line for the days ``start … end``, worth ``months`` months of service."""
    scale = months / FACTOR_MONTHS[line.price_factor]
    what = f"line {line.description!r}"
    unit_price = _round(Fraction(line.unit_price) * scale, what)
    return PlannedLine(
        description=f"{line.description}, {start:%d.%m.%Y}–{end:%d.%m.%Y}",
        quantity=line.quantity,
        unit_price=unit_price,
        amount=_round(Fraction(line.quantity) * Fraction(unit_price), what),
        vat_code=line.vat_code,
        period_start=start,
        period_end=end,
    )


def _invoice(terms: Terms, k: int) -> PlannedInvoice:
    d_k = invoice_date(terms, k)
    d_next = invoice_date(terms, k + 1)
    period_end = d_next - _ONE_DAY
    whole = True
    if terms.end_date is not None and period_end > terms.end_date:  # the last invoice
        period_end, whole = terms.end_date, False
    # The days after the agreement date, before the first period (G5).
    lead: tuple[dt.date, dt.date] | None = None
    if k == 0 and terms.agreement_date is not None and terms.agreement_date + _ONE_DAY < d_k:
        lead = (terms.agreement_date + _ONE_DAY, d_k - _ONE_DAY)
    lines: list[PlannedLine] = []
    for line in terms.lines:
        if line.price_factor == "fixed":
            amount = _round(
                Fraction(line.quantity) * Fraction(line.unit_price), f"line {line.description!r}"
            )
            lines.append(
                PlannedLine(line.description, line.quantity, line.unit_price, amount, line.vat_code)
            )
            continue
        if lead is not None:
            lines.append(_scaled(line, months_by_days(*lead), *lead))
        lines.append(_scaled(line, _period_months(terms, d_k, period_end, whole), d_k, period_end))
    if sum(line.amount for line in lines) >= LIMIT:
        raise AgreementError(
            f"invoice {k + 1} ({d_k}): the total is too large (the limit is {LIMIT:,})"
        )
    due = d_k if terms.no_credit_days else d_k + dt.timedelta(days=terms.payment_days)
    return PlannedInvoice(
        sequence=k,
        generate_on=d_k - dt.timedelta(days=terms.prep_days),
        invoice_date=d_k,
        due_date=due,
        period_start=lead[0] if lead else d_k,
        period_end=period_end,
        lines=tuple(lines),
        currency=terms.currency,
    )


# -- the plan ------------------------------------------------------------------------------------


def plan(terms: Terms, start: int = 0) -> Iterator[PlannedInvoice]:
    """The agreement's invoices from number ``start`` on, in order; finite where an end date
    or maximum count ends the agreement, else endless (take what you need)."""
    k = start
    while _is_made(terms, k):
        yield _invoice(terms, k)
        k += 1


def planned(terms: Terms, sequence: int) -> PlannedInvoice | None:
    """Invoice number ``sequence``, or ``None`` if the agreement makes no such invoice."""
    return _invoice(terms, sequence) if _is_made(terms, sequence) else None


def next_invoice_date(terms: Terms, generated: int) -> dt.date | None:
    """The next invoice date once ``generated`` invoices are made (G2); ``None`` once the
    agreement has made its last (G3)."""
    return invoice_date(terms, generated) if _is_made(terms, generated) else None


def finished_reason(terms: Terms, generated: int, *, today: dt.date) -> str | None:
    """Why an agreement that has made ``generated`` invoices is over on ``today`` (G3), or
    ``None`` while it is not. An end date ends it once reached (seed 004), not as soon as the
    last invoice is made: that invoice may be weeks before it."""
    if _is_made(terms, generated):
        return None
    if generated >= MAX_INVOICES:
        return f"the most invoices an agreement makes ({MAX_INVOICES:,}) reached"
    if terms.max_count is not None and generated >= terms.max_count:
        return f"maximum count {terms.max_count} reached"
    if terms.end_date is not None and today < terms.end_date:
        return None
    return f"end date {terms.end_date} reached"
