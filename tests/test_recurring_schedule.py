"""Schedule arithmetic of recurring agreements (G1–G5): examples, edges and invariants."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.recurring.schedule import (
    AgreementError,
    AgreementLine,
    PlannedInvoice,
    Terms,
    add_months,
    count,
    finished_reason,
    months_by_days,
    next_invoice_date,
    plan,
    planned,
)

D = Decimal
DAY = dt.timedelta(days=1)


def line(price: str = "1000.00", factor: str = "fixed", quantity: str = "1.00") -> AgreementLine:
    return AgreementLine("Service", D(quantity), D(price), factor)


def terms(**kw: object) -> Terms:
    base: dict[str, object] = {
        "every": 1,
        "unit": "month",
        "first_invoice_date": dt.date(2022, 11, 1),
        "lines": (line(),),
        "currency": "NOK",
    }
    base.update(kw)
    return Terms(**base)  # type: ignore[arg-type]


def first(t: Terms, n: int) -> list[PlannedInvoice]:
    return list(itertools.islice(plan(t), n))


# -- the seed's examples ------------------------------------------------------------------------


def test_G1_example_1_generated_ten_days_early_due_on_the_invoice_date() -> None:
    t = terms(first_invoice_date=dt.date(2022, 11, 30), prep_days=10, no_credit_days=True)
    p = first(t, 1)[0]
    assert (p.generate_on, p.invoice_date, p.due_date) == (
        dt.date(2022, 11, 20),
        dt.date(2022, 11, 30),
        dt.date(2022, 11, 30),
    )


def test_G5_example_2_first_invoice_bills_the_last_11_days_of_october() -> None:
    t = terms(agreement_date=dt.date(2022, 10, 20), lines=(line("3100.00", "month"),))
    p = first(t, 1)[0]
    assert [(x.period_start, x.period_end, x.amount) for x in p.lines] == [
        (dt.date(2022, 10, 21), dt.date(2022, 10, 31), D("1100.00")),  # 11/31 of 3100
        (dt.date(2022, 11, 1), dt.date(2022, 11, 30), D("3100.00")),
    ]
    assert p.total == D("4200.00")
    assert (p.period_start, p.period_end) == (dt.date(2022, 10, 21), dt.date(2022, 11, 30))


def test_G5_the_agreement_date_only_matters_for_periodic_prices() -> None:
    t = terms(agreement_date=dt.date(2022, 10, 20), lines=(line("3100.00", "fixed"),))
    assert [x.amount for x in first(t, 1)[0].lines] == [D("3100.00")]


def test_G5_no_extra_line_when_billing_starts_on_the_first_invoice_date() -> None:
    t = terms(agreement_date=dt.date(2022, 10, 31), lines=(line("3100.00", "month"),))
    assert [x.amount for x in first(t, 1)[0].lines] == [D("3100.00")]


# -- G2: anchoring --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "february"), [(2023, dt.date(2023, 2, 28)), (2024, dt.date(2024, 2, 29))]
)
def test_G2_monthly_from_the_31st_does_not_drift(year: int, february: dt.date) -> None:
    t = terms(first_invoice_date=dt.date(year, 1, 31))
    assert [p.invoice_date for p in first(t, 5)] == [
        dt.date(year, 1, 31),
        february,
        dt.date(year, 3, 31),
        dt.date(year, 4, 30),
        dt.date(year, 5, 31),
    ]


def test_G2_yearly_from_29_february_falls_on_28_february_then_back() -> None:
    t = terms(first_invoice_date=dt.date(2024, 2, 29), unit="year")
    assert [p.invoice_date for p in first(t, 5)] == [
        dt.date(2024, 2, 29),
        dt.date(2025, 2, 28),
        dt.date(2026, 2, 28),
        dt.date(2027, 2, 28),
        dt.date(2028, 2, 29),
    ]


def test_G2_every_two_weeks_is_fourteen_days() -> None:
    t = terms(unit="week", every=2, first_invoice_date=dt.date(2026, 12, 28))
    assert [p.invoice_date for p in first(t, 3)] == [
        dt.date(2026, 12, 28),
        dt.date(2027, 1, 11),
        dt.date(2027, 1, 25),
    ]


def test_G2_next_invoice_date_advances_by_the_interval() -> None:
    t = terms(first_invoice_date=dt.date(2023, 1, 31))
    assert next_invoice_date(t, 0) == dt.date(2023, 1, 31)
    assert next_invoice_date(t, 1) == dt.date(2023, 2, 28)
    assert next_invoice_date(t, 2) == dt.date(2023, 3, 31)


# -- G3: end date and maximum count --------------------------------------------------------------


def test_G3_maximum_count_stops_the_agreement() -> None:
    t = terms(max_count=3)
    assert count(t) == 3
    assert len(list(plan(t))) == 3
    assert next_invoice_date(t, 3) is None
    assert finished_reason(t, 2, today=dt.date(2023, 1, 1)) is None
    # Over at once, on the day of its last invoice: the count is what ends it.
    assert finished_reason(t, 3, today=dt.date(2023, 1, 1)) == "maximum count 3 reached"


def test_G3_end_date_on_a_period_boundary_makes_whole_periods_only() -> None:
    t = terms(end_date=dt.date(2023, 1, 31), lines=(line("3100.00", "month"),))
    made = list(plan(t))
    assert [p.invoice_date for p in made] == [
        dt.date(2022, 11, 1),
        dt.date(2022, 12, 1),
        dt.date(2023, 1, 1),
    ]
    assert [p.total for p in made] == [D("3100.00")] * 3
    assert finished_reason(t, 3, today=dt.date(2023, 1, 30)) is None
    assert finished_reason(t, 3, today=dt.date(2023, 1, 31)) == "end date 2023-01-31 reached"


# Issue 16: a fixed-price agreement with an end date inside a period. Seed 004: "when the end
# date is reached, it is set inactive": the invoice dated before the end date is made, and the
# agreement is not over before its end date.


def test_G3_a_fixed_line_is_billed_on_every_invoice_dated_up_to_the_end_date() -> None:
    t = terms(end_date=dt.date(2023, 3, 15))  # monthly from 1 Nov 2022, 1 000 a month fixed
    made = list(plan(t))
    assert [p.invoice_date for p in made] == [
        dt.date(2022, 11, 1),
        dt.date(2022, 12, 1),
        dt.date(2023, 1, 1),
        dt.date(2023, 2, 1),
        dt.date(2023, 3, 1),
    ]
    assert [p.total for p in made] == [D("1000.00")] * 5
    assert (made[-1].period_start, made[-1].period_end) == (
        dt.date(2023, 3, 1),
        dt.date(2023, 3, 15),
    )
    # After 1 February's invoice the agreement is not over: 1 March's is still to come.
    assert next_invoice_date(t, 4) == dt.date(2023, 3, 1)
    assert finished_reason(t, 4, today=dt.date(2023, 2, 1)) is None
    # After 1 March's, nothing more is made; it is over when 15 March is reached, not before.
    assert next_invoice_date(t, 5) is None
    assert finished_reason(t, 5, today=dt.date(2023, 3, 14)) is None
    assert finished_reason(t, 5, today=dt.date(2023, 3, 15)) == "end date 2023-03-15 reached"


@pytest.mark.parametrize(
    ("end_date", "invoices"),
    [
        (dt.date(2023, 2, 28), 4),  # the day before 1 March: 1 March's invoice is not made
        (dt.date(2023, 3, 1), 5),  # on 1 March itself: made, for that one day
        (dt.date(2023, 3, 2), 5),
        (dt.date(2023, 3, 31), 5),  # a whole period
        (dt.date(2023, 4, 1), 6),
    ],
)
def test_G3_the_end_date_boundary_days(end_date: dt.date, invoices: int) -> None:
    t = terms(end_date=end_date)
    made = list(plan(t))
    assert len(made) == count(t) == invoices
    assert made[-1].invoice_date <= end_date < made[-1].invoice_date + dt.timedelta(days=31)
    assert made[-1].period_end == end_date


def test_G5_surplus_days_after_the_last_whole_period_go_on_the_last_invoice() -> None:
    t = terms(end_date=dt.date(2023, 3, 15), lines=(line("3100.00", "month"),))
    made = list(plan(t))
    # The last invoice is 1 March's (dated before the end date): it bills 1–15 March, at
    # 15/31 of the monthly price; 1 February's bills February whole.
    assert [p.invoice_date for p in made][-2:] == [dt.date(2023, 2, 1), dt.date(2023, 3, 1)]
    assert [(x.period_start, x.period_end, x.amount) for x in made[-2].lines] == [
        (dt.date(2023, 2, 1), dt.date(2023, 2, 28), D("3100.00")),
    ]
    assert [(x.period_start, x.period_end, x.amount) for x in made[-1].lines] == [
        (dt.date(2023, 3, 1), dt.date(2023, 3, 15), D("1500.00")),
    ]
    assert made[-1].period_end == dt.date(2023, 3, 15)


def test_G3_the_first_invoice_is_made_even_if_the_end_date_cuts_its_period() -> None:
    t = terms(end_date=dt.date(2022, 11, 15), lines=(line("3000.00", "month"),))
    made = list(plan(t))
    assert len(made) == 1
    assert [(x.period_end, x.amount) for x in made[0].lines] == [
        (dt.date(2022, 11, 15), D("1500.00"))  # 15/30 of November
    ]


def test_G3_maximum_count_gives_no_surplus_for_a_later_end_date() -> None:
    t = terms(max_count=2, end_date=dt.date(2023, 6, 30), lines=(line("3100.00", "month"),))
    made = list(plan(t))
    assert len(made) == 2
    assert [len(p.lines) for p in made] == [1, 1]


# -- G4: price factors ---------------------------------------------------------------------------


def test_G4_monthly_dispatch_of_a_quarterly_price() -> None:
    t = terms(lines=(line("15000.00", "quarter"),))
    assert {p.total for p in first(t, 4)} == {D("5000.00")}


def test_G4_quarterly_dispatch_of_a_monthly_price() -> None:
    t = terms(every=3, lines=(line("15000.00", "month"),))
    assert {p.total for p in first(t, 4)} == {D("45000.00")}


def test_G4_yearly_price_billed_monthly_rounds_half_up_to_ore() -> None:
    t = terms(lines=(line("1000.00", "year", quantity="3.00"),))
    p = first(t, 1)[0]
    assert p.lines[0].unit_price == D("83.33")  # 1000/12 = 83.333…
    assert p.lines[0].amount == D("249.99")  # 3 × 83.33


def test_G4_weekly_dispatch_of_a_monthly_price_counts_days() -> None:
    t = terms(
        unit="week", first_invoice_date=dt.date(2023, 3, 1), lines=(line("3100.00", "month"),)
    )
    assert first(t, 1)[0].total == D("700.00")  # 7 of March's 31 days


def test_G4_quantity_multiplies_the_scaled_price() -> None:
    t = terms(lines=(line("300.00", "quarter", quantity="2.50"),))
    assert first(t, 1)[0].lines[0].amount == D("250.00")


def test_months_by_days_counts_each_day_in_its_own_month() -> None:
    from fractions import Fraction

    assert months_by_days(dt.date(2022, 10, 21), dt.date(2022, 10, 31)) == Fraction(11, 31)
    assert months_by_days(dt.date(2024, 2, 1), dt.date(2024, 3, 31)) == 2
    assert months_by_days(dt.date(2023, 1, 31), dt.date(2023, 2, 1)) == Fraction(1, 31) + Fraction(
        1, 28
    )


# -- due dates -----------------------------------------------------------------------------------


def test_due_date_from_payment_days_or_the_invoice_date() -> None:
    assert first(terms(payment_days=30), 1)[0].due_date == dt.date(2022, 12, 1)
    assert first(terms(payment_days=30, no_credit_days=True), 1)[0].due_date == dt.date(2022, 11, 1)


# -- refused terms -------------------------------------------------------------------------------


def test_amounts_too_large_to_store_are_refused_not_rounded_or_crashed() -> None:
    big = D("9" * 15 + ".00")
    t = terms(lines=(AgreementLine("Huge", big, big, "fixed"),))
    with pytest.raises(AgreementError, match="line 'Huge': the amount is too large"):
        first(t, 1)
    many = terms(lines=(line("6000000000000000.00"), line("6000000000000000.00")))
    with pytest.raises(AgreementError, match=r"invoice 1 \(2022-11-01\): the total is too large"):
        first(many, 1)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"unit": "fortnight"}, "unit 'fortnight' is not one of day, week, month, year"),
        ({"every": 0}, "every 0 must be a whole number from 1 to 1000"),
        ({"prep_days": -1}, "preparation days -1"),
        ({"max_count": 0}, "maximum count 0"),
        ({"lines": ()}, "at least one line"),
        ({"currency": "kr"}, "currency 'kr'"),
        ({"produce": "quote"}, "produce 'quote'"),
        ({"agreement_date": dt.date(2022, 11, 2)}, "agreement date 2022-11-02 is after"),
        ({"end_date": dt.date(2022, 10, 31)}, "end date 2022-10-31 is before"),
        ({"first_invoice_date": dt.date(9999, 12, 31)}, "runs past the calendar"),
    ],
)
def test_terms_that_make_no_agreement_are_refused(kw: dict[str, object], message: str) -> None:
    with pytest.raises(AgreementError, match=message.replace("(", r"\(").replace(")", r"\)")):
        terms(**kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"price_factor": "week"}, "price factor 'week' is not one of fixed, month, quarter"),
        ({"quantity": D("0")}, "quantity 0 must be more than 0"),
        ({"unit_price": D("-1.00")}, "unit price -1.00 is negative"),
        ({"unit_price": D("1.005")}, "unit_price 1.005 has more than two decimals"),
        ({"description": " "}, "description is empty"),
    ],
)
def test_lines_that_make_no_sense_are_refused(kw: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "description": "Service",
        "quantity": D("1"),
        "unit_price": D("1.00"),
    }
    base.update(kw)
    with pytest.raises(AgreementError, match=message):
        AgreementLine(**base)  # type: ignore[arg-type]


# -- invariants ----------------------------------------------------------------------------------

FIRST_DATES = st.dates(dt.date(1999, 1, 1), dt.date(2040, 12, 31))


@st.composite
def any_terms(draw: st.DrawFn) -> Terms:
    unit = draw(st.sampled_from(["day", "week", "month", "year"]))
    every = draw(st.integers(1, 4 if unit != "day" else 45))
    start = draw(FIRST_DATES)
    agreement_date = draw(st.none() | st.integers(0, 200).map(lambda n: start - n * DAY))
    end_date = draw(st.none() | st.integers(0, 1500).map(lambda n: start + n * DAY))
    max_count = draw(st.none() | st.integers(1, 40))
    factors = st.sampled_from(["fixed", "month", "quarter", "year"])
    prices = st.integers(0, 10**7).map(lambda c: D(c) / 100)
    lines = draw(
        st.lists(
            st.builds(
                AgreementLine,
                description=st.just("Line"),
                quantity=st.integers(1, 1000).map(lambda c: D(c) / 100),
                unit_price=prices,
                price_factor=factors,
            ),
            min_size=1,
            max_size=3,
        )
    )
    return Terms(
        every=every,
        unit=unit,
        first_invoice_date=start,
        prep_days=draw(st.integers(0, 60)),
        agreement_date=agreement_date,
        end_date=end_date,
        max_count=max_count,
        no_credit_days=draw(st.booleans()),
        payment_days=draw(st.integers(0, 60)),
        lines=tuple(lines),
        currency="NOK",
    )


def _made(t: Terms, limit: int = 60) -> list[PlannedInvoice]:
    return list(itertools.islice(plan(t), limit))


@settings(max_examples=400, deadline=None)
@given(any_terms())
def test_dates_strictly_increase_and_periods_never_overlap(t: Terms) -> None:
    made = _made(t)
    assert made, "every valid agreement makes its first invoice"
    for a, b in itertools.pairwise(made):
        assert a.invoice_date < b.invoice_date
        assert a.generate_on < b.generate_on
        assert a.period_end + DAY == b.period_start, "a gap or a day billed twice"
    for p in made:
        assert p.generate_on == p.invoice_date - dt.timedelta(days=t.prep_days)
        assert p.period_start <= p.invoice_date <= p.period_end
        assert p.due_date == (
            p.invoice_date if t.no_credit_days else p.invoice_date + t.payment_days * DAY
        )
        assert p.total == sum((x.amount for x in p.lines), D("0.00"))
        assert all(x.amount == x.amount.quantize(D("0.01")) for x in p.lines)
        for x in p.lines:  # periodic lines bill days inside the invoice's period, disjointly
            if x.period_start is not None:
                assert x.period_end is not None
                assert p.period_start <= x.period_start <= x.period_end <= p.period_end


@settings(max_examples=400, deadline=None)
@given(any_terms())
def test_never_past_the_end_date_or_the_maximum_count(t: Terms) -> None:
    made = _made(t, 300)
    if t.max_count is not None:
        assert len(made) <= t.max_count
    if t.end_date is not None:
        assert made[-1].period_end <= t.end_date or len(made) == 300
        if len(made) < 300 and (t.max_count is None or len(made) < t.max_count):
            # What ends it is the end date: billed through it, not a day more or less.
            assert made[-1].period_end == t.end_date
    total = count(t)
    if total is not None and total <= 300:
        assert total == len(made)
        assert finished_reason(t, total, today=t.end_date or dt.date.max) is not None
        assert next_invoice_date(t, total) is None


@settings(max_examples=300, deadline=None)
@given(any_terms(), st.integers(0, 30))
def test_a_restart_plans_exactly_the_rest(t: Terms, k: int) -> None:
    """The generator plans from the number it has recorded: the same invoices as from 0."""
    whole = _made(t, k + 5)
    assert list(itertools.islice(plan(t, k), 5)) == whole[k:]
    assert planned(t, k) == (whole[k] if k < len(whole) else None)


@settings(max_examples=300, deadline=None)
@given(FIRST_DATES, st.integers(1, 12), st.integers(0, 300))
def test_month_arithmetic_is_anchored(anchor: dt.date, every: int, k: int) -> None:
    got = add_months(anchor, every * k)
    last = calendar.monthrange(got.year, got.month)[1]
    assert got.day == min(anchor.day, last), "drift away from the anchor day"
    assert (got.year * 12 + got.month) - (anchor.year * 12 + anchor.month) == every * k


@settings(max_examples=200, deadline=None)
@given(st.integers(1999, 2040), st.integers(1, 12), st.integers(1, 12))
def test_a_year_of_a_monthly_price_is_the_yearly_price(year: int, month: int, factor: int) -> None:
    """Twelve monthly invoices of a yearly price add up to it, within øre rounding."""
    price = D(1200 * factor + 7).quantize(D("0.01"))
    t = terms(
        first_invoice_date=dt.date(year, month, 1),
        lines=(line(str(price), "year"),),
        max_count=12,
    )
    total = sum((p.total for p in plan(t)), D("0"))
    assert abs(total - price) <= D("0.06")  # 12 × half an øre
