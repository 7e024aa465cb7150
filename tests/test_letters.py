"""Letters to customers: every kind in every language, exact amounts, the law each letter cites."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.dunning.law import LawViolation
from hub.dunning.letters import (
    KINDS,
    LANGUAGES,
    NB_GROUP_SEPARATOR,
    TEMPLATE_DIR,
    LetterData,
    LetterInvoice,
    RenderedLetter,
    format_amount,
    format_date,
    letter_language,
    render_letter,
)

D = Decimal
TODAY = dt.date(2026, 11, 23)
NBSP = "\u00a0"
CURRENCY = {"DK": "DKK", "NO": "NOK"}
FEE = {"DK": D("100.00"), "NO": D("35.00")}
DEADLINE_DAYS = {"DK": 10, "NO": 14}


def invoice(number: str = "1001", amount: str = "1234.50", currency: str = "DKK") -> LetterInvoice:
    return LetterInvoice(
        invoice_number=number,
        invoice_date=dt.date(2026, 10, 1),
        due_date=dt.date(2026, 10, 31),
        outstanding_amount=D(amount),
        currency=currency,
    )


def letter(kind: str = "reminder", country: str = "DK", **changes: Any) -> LetterData:
    """A lawful letter of ``kind`` from a ``country`` creditor; ``changes`` override fields."""
    currency = CURRENCY.get(country, "DKK")
    fee = (
        D("0.00")
        if kind in ("friendly_reminder", "closing_confirmation", "collection_notice")
        else FEE.get(country, D(0))
    )
    # a collection notice adds no fee of its own, but the warning before it may have carried one;
    # its deadline is the warning's, which has passed
    fees_total = FEE.get(country, D(0)) if kind == "collection_notice" else fee
    deadline = (
        TODAY - dt.timedelta(days=1)
        if kind == "collection_notice"
        else TODAY + dt.timedelta(days=DEADLINE_DAYS.get(country, 14))
    )
    data = LetterData(
        kind=kind,
        country=country,
        today=TODAY,
        creditor_name="Ærø Østergård & Søn ApS",
        payment_details="Reg.nr. 1234 konto 5678901",
        customer_name="Åse Bløndal",
        customer_number="K-4711",
        invoices=(invoice(currency=currency),),
        currency=currency,
        outstanding_total=D("1234.50"),
        fee=fee,
        fees_total=fees_total,
        reminder_number=2 if kind in ("reminder", "customer_reminder") else None,
        deadline=deadline,
        closing_reason="Betalt" if kind == "closing_confirmation" else None,
    )
    return dataclasses.replace(data, **changes)


def render(
    kind: str = "reminder", country: str = "DK", language: str = "da", **changes: Any
) -> str:
    return render_letter(letter(kind, country, **changes), language).body


# --- every kind, every language -------------------------------------------------------------


@pytest.mark.parametrize("country", ["DK", "NO"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_language(kind: str, language: str, country: str) -> None:
    data = letter(kind, country)
    rendered = render_letter(data, language)
    assert isinstance(rendered, RenderedLetter)
    assert rendered.language == language
    assert rendered.subject and "\n" not in rendered.subject
    body = rendered.body
    assert body.endswith("\n") and not body.endswith("\n\n")
    assert "\n\n\n" not in body
    for text in (data.creditor_name, data.customer_name, data.customer_number, "1001"):
        assert text in body
    assert format_date(TODAY, language) in body
    assert "Reg.nr. 1234 konto 5678901" in body
    for leak in ("None", "{{", "{%", "Decimal", "2026-"):
        assert leak not in body and leak not in rendered.subject


@pytest.mark.parametrize("language", LANGUAGES)
def test_templates_exist_for_every_kind_and_nothing_else(language: str) -> None:
    letters = {
        p.name.removesuffix(".txt.j2")
        for p in (TEMPLATE_DIR / language).glob("*.txt.j2")
        if not p.name.startswith("_")
    }
    assert letters == KINDS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS - {"closing_confirmation"}))
def test_without_payment_details_the_letter_points_to_the_invoice(kind: str, language: str) -> None:
    body = render(kind, "DK", language, payment_details=None)
    hint = {"da": "fremgår af fakturaen", "nb": "finner du på fakturaen", "en": "on the invoice"}
    assert hint[language] in body
    assert "None" not in body


# --- Danish ----------------------------------------------------------------------------------


def test_danish_reminder() -> None:
    data = letter("reminder", "DK", fees_total=D("200.00"), deadline=dt.date(2026, 12, 3))
    rendered = render_letter(data, "da")
    body = rendered.body
    assert "Rykker 2" in rendered.subject and "faktura 1001" in rendered.subject
    assert "RYKKER 2" in body
    assert "1.234,50 kr." in body
    assert "Rykkergebyr for denne rykker: 100,00 kr." in body
    assert "Tidligere gebyrer: 100,00 kr." in body
    assert "I alt at betale: 1.434,50 kr." in body
    assert "Rykkergebyret på 100,00 kr. opkræves i henhold til renteloven § 9 b." in body
    assert "senest den 03.12.2026" in body
    assert "Faktura 1001 af 01.10.2026, forfaldsdato 31.10.2026: 1.234,50 kr." in body
    assert "se bort fra denne rykker" in body


def test_danish_collection_warning_states_claim_deadline_and_consequence() -> None:
    body = render("collection_warning", "DK", "da", fees_total=D("300.00"))
    assert "INKASSOVARSEL" in body
    assert "inkassoloven § 10" in body
    assert "mindst 10 dage" in body
    assert "1.234,50 kr." in body  # the claim
    assert "I alt at betale: 1.534,50 kr." in body  # including all fees
    assert (
        "Hvis det samlede beløb på 1.534,50 kr. ikke er betalt senest den 03.12.2026, "
        "vil kravet blive sendt til inkasso"
    ) in body
    assert "yderligere omkostninger" in body


def test_danish_friendly_reminder_has_no_fee_and_may_be_disregarded() -> None:
    inv = dataclasses.replace(invoice(), due_date=dt.date(2026, 11, 26))
    body = render("friendly_reminder", "DK", "da", invoices=(inv,), deadline=None)
    assert "forfalder til betaling" in body
    assert "forfaldsdato 26.11.2026" in body
    assert "senest på forfaldsdatoen" in body
    assert "Har du allerede betalt, kan du se bort fra denne påmindelse." in body
    assert "gebyr" not in body.lower()


def test_friendly_reminder_after_the_due_date_asks_for_payment_as_soon_as_possible() -> None:
    body = render("friendly_reminder", "DK", "da", deadline=None)
    assert "som er forfalden" in body and "hurtigst muligt" in body
    body = render("friendly_reminder", "NO", "en", deadline=None)
    assert "now due" in body and "as soon as possible" in body
    # the engine passes the due date as the deadline; once it has passed, it is not printed
    body = render("friendly_reminder", "NO", "nb", deadline=dt.date(2026, 10, 31))
    assert "så snart som mulig" in body and "senest 31.10.2026" not in body


# --- Norwegian -------------------------------------------------------------------------------


def test_norwegian_reminder() -> None:
    rendered = render_letter(letter("reminder", "NO"), "nb")
    body = rendered.body
    assert "2. purring" in rendered.subject
    assert f"1{NBSP}234,50 kr" in body
    assert "Purregebyr for denne purringen: 35,00 kr" in body
    assert f"Totalt å betale: 1{NBSP}269,50 kr" in body
    assert "inkassoloven § 17 og inkassoforskriften § 1-2" in body
    assert "betalingsfrist på minst 14 dager" in body
    assert "senest 07.12.2026" in body


def test_norwegian_collection_warning() -> None:
    body = render("collection_warning", "NO", "nb")
    assert "INKASSOVARSEL" in body
    assert "inkassoloven § 9" in body
    assert "minst 14 dager" in body
    assert "vil kravet bli sendt til inkasso" in body
    assert "ytterligere kostnader" in body
    assert "innen 07.12.2026" in body
    assert "Gebyret på 35,00 kr kreves etter inkassoloven § 17 og inkassoforskriften § 1-2." in body


def test_the_creditors_country_decides_the_law_not_the_language() -> None:
    danish_to_norway = render("reminder", "NO", "da")
    assert "inkassoforskriften § 1-2" in danish_to_norway
    assert "renteloven" not in danish_to_norway
    assert "1.234,50 NOK" in danish_to_norway
    norwegian_from_denmark = render("reminder", "DK", "nb")
    assert "renteloven § 9 b" in norwegian_from_denmark
    assert "inkassoforskriften" not in norwegian_from_denmark
    assert f"1{NBSP}234,50 DKK" in norwegian_from_denmark


# --- English ---------------------------------------------------------------------------------


def test_english_reminder() -> None:
    rendered = render_letter(letter("reminder", "DK"), "en")
    assert rendered.subject.startswith("Reminder 2 for invoice 1001")
    assert "DKK 1,234.50" in rendered.body
    assert "Total to pay: DKK 1,334.50" in rendered.body
    assert "(renteloven § 9 b)" in rendered.body
    assert "by 3 December 2026" in rendered.body
    assert "inkassoforskriften § 1-2" in render("reminder", "NO", "en")


def test_english_collection_warning() -> None:
    body = render("collection_warning", "NO", "en")
    assert "inkassoloven § 9" in body and "debt collection" in body
    assert "further costs" in body and "by 7 December 2026" in body


# --- fees ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("country", ["DK", "NO"])
@pytest.mark.parametrize(
    "kind", ["reminder", "customer_reminder", "collection_warning", "collection_notice"]
)
def test_no_fee_no_fee_sentence(kind: str, country: str, language: str) -> None:
    body = render(kind, country, language, fee=D("0"), fees_total=D("0"))
    assert "gebyr" not in body.lower()
    assert "fee" not in body.lower()
    assert "§ 9 b" not in body and "§ 1-2" not in body and "§ 17" not in body


def test_no_fee_on_this_letter_but_earlier_fees_are_still_in_the_total() -> None:
    body = render("reminder", "DK", "da", reminder_number=3, fee=D("0"), fees_total=D("200"))
    assert "Tidligere gebyrer: 200,00 kr." in body
    assert "I alt at betale: 1.434,50 kr." in body
    assert "Rykkergebyr for denne rykker" not in body and "§ 9 b" not in body


# --- customer balance ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_reminder_lists_every_invoice_and_the_exact_total(language: str) -> None:
    amounts = ["0.10", "0.20", "1000.00", "234.20", "-100.00"]  # a credit note lowers the balance
    invoices = tuple(invoice(f"F-{i}", a) for i, a in enumerate(amounts))
    body = render(
        "customer_reminder",
        "DK",
        language,
        invoices=invoices,
        outstanding_total=D("1134.50"),
        fee=D("100"),
        fees_total=D("100"),
    )
    for inv in invoices:
        line = [ln for ln in body.splitlines() if inv.invoice_number in ln]
        assert len(line) == 1
        assert line[0].endswith(format_amount(inv.outstanding_amount, "DKK", language))
    assert format_amount(D("1134.50"), "DKK", language) in body
    assert format_amount(D("1234.50"), "DKK", language) in body  # balance + fee


def test_customer_reminder_refuses_a_total_the_invoices_do_not_add_up_to() -> None:
    invoices = (invoice("1", "10.00"), invoice("2", "20.00"))
    with pytest.raises(ValueError, match="add up to 30.00, but outstanding_total is 30.01"):
        render("customer_reminder", invoices=invoices, outstanding_total=D("30.01"))


# --- customer balance: several invoices, a fee and earlier fees --------------------------------

CUSTOMER_REMINDER_LINES = {
    "da": [
        "Kære Åse Bløndal",
        "Vi kan ikke se, at vi har modtaget betaling for følgende forfaldne fakturaer"
        " på din konto hos os:",
        "  Faktura F-1 af 01.10.2026, forfaldsdato 31.10.2026: 100,00 kr.",
        "  Faktura F-2 af 01.10.2026, forfaldsdato 31.10.2026: 200,25 kr.",
        "  Faktura F-3 af 01.10.2026, forfaldsdato 31.10.2026: 934,25 kr.",
        "Samlet udestående saldo: 1.234,50 kr.",
        "Rykkergebyr for denne rykker: 100,00 kr.",
        "Tidligere gebyrer: 200,00 kr.",
        "I alt at betale: 1.534,50 kr.",
        "Vi beder dig betale 1.534,50 kr. senest den 03.12.2026 til:",
    ],
    "nb": [
        "Vi kan ikke se å ha mottatt betaling for disse forfalte fakturaene"
        " på kontoen din hos oss:",
        "  Faktura F-1 datert 01.10.2026, forfallsdato 31.10.2026: 100,00 DKK",
        "  Faktura F-2 datert 01.10.2026, forfallsdato 31.10.2026: 200,25 DKK",
        "  Faktura F-3 datert 01.10.2026, forfallsdato 31.10.2026: 934,25 DKK",
        f"Samlet utestående saldo: 1{NBSP}234,50 DKK",
        "Rykkergebyr for denne purringen: 100,00 DKK",
        "Tidligere gebyrer: 200,00 DKK",
        f"Totalt å betale: 1{NBSP}534,50 DKK",
        f"Vi ber deg betale 1{NBSP}534,50 DKK senest 03.12.2026 til:",
    ],
    "en": [
        "Dear Åse Bløndal,",
        "According to our records, we have not received payment for the following overdue"
        " invoices on your account with us:",
        "  Invoice F-1 dated 1 October 2026, due 31 October 2026: DKK 100.00",
        "  Invoice F-2 dated 1 October 2026, due 31 October 2026: DKK 200.25",
        "  Invoice F-3 dated 1 October 2026, due 31 October 2026: DKK 934.25",
        "Total outstanding balance: DKK 1,234.50",
        "Fee for this reminder: DKK 100.00",
        "Earlier fees: DKK 200.00",
        "Total to pay: DKK 1,534.50",
        "Please pay DKK 1,534.50 by 3 December 2026 to:",
    ],
}
CUSTOMER_REMINDER_SUBJECT = {
    "da": "Rykker 2: samlet udestående for kundenummer K-4711 hos Ærø Østergård & Søn ApS",
    "nb": "2. purring: samlet utestående for kundenummer K-4711 hos Ærø Østergård & Søn ApS",
    "en": "Reminder 2: outstanding balance for customer number K-4711 with Ærø Østergård & Søn ApS",
}
CUSTOMER_REMINDER_HEADING = {
    "da": ("RYKKER 2 – SAMLET UDESTÅENDE", "RYKKER – SAMLET UDESTÅENDE"),
    "nb": ("2. PURRING – SAMLET UTESTÅENDE", "PURRING – SAMLET UTESTÅENDE"),
    "en": ("REMINDER 2 – OUTSTANDING BALANCE", "REMINDER – OUTSTANDING BALANCE"),
}


def three_invoices(currency: str = "DKK") -> tuple[LetterInvoice, ...]:
    return (
        invoice("F-1", "100.00", currency),
        invoice("F-2", "200.25", currency),
        invoice("F-3", "934.25", currency),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_reminder_with_three_invoices_a_fee_and_earlier_fees(language: str) -> None:
    data = letter("customer_reminder", "DK", invoices=three_invoices(), fees_total=D("300.00"))
    rendered = render_letter(data, language)
    assert rendered.subject == CUSTOMER_REMINDER_SUBJECT[language]
    lines = rendered.body.splitlines()
    assert CUSTOMER_REMINDER_HEADING[language][0] in lines
    for expected in CUSTOMER_REMINDER_LINES[language]:
        assert expected in lines
    # each invoice once, in the order given, and the total is balance + this fee + earlier fees
    numbers = [ln.split()[1] for ln in lines if ln.lstrip().startswith(("Faktura F", "Invoice F"))]
    assert numbers == ["F-1", "F-2", "F-3"]
    total = D("100.00") + D("200.25") + D("934.25") + D("100.00") + D("200.00")
    assert total == D("1534.50")
    total_line = [ln for ln in lines if ln.startswith(("I alt at betale", "Totalt", "Total to"))]
    assert total_line == [total_line[0]]
    assert total_line[0].endswith(format_amount(total, "DKK", language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_norwegian_customer_reminder_with_three_invoices(language: str) -> None:
    data = letter("customer_reminder", "NO", invoices=three_invoices("NOK"), fees_total=D("70.00"))
    body = render_letter(data, language).body
    fee_line = {
        "da": "Purregebyr for denne rykker: 35,00 NOK",
        "nb": "Purregebyr for denne purringen: 35,00 kr",
        "en": "Fee for this reminder: NOK 35.00",
    }
    assert fee_line[language] in body.splitlines()
    for inv in data.invoices:
        assert f"{format_amount(inv.outstanding_amount, 'NOK', language)}\n" in body
    assert format_amount(D("35.00"), "NOK", language) in body  # the earlier fee
    total = format_amount(D("1234.50") + D("70.00"), "NOK", language)
    assert total in [ln.split(": ")[-1] for ln in body.splitlines()]
    assert "inkassoforskriften § 1-2" in body  # the fee's basis
    days = {"da": "mindst 14 dage", "nb": "minst 14 dager", "en": "at least 14 days"}
    assert days[language] in body  # the Norwegian reminder's 14 days to pay


@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_reminder_without_a_number_says_reminder(language: str) -> None:
    rendered = render_letter(letter("customer_reminder", reminder_number=None), language)
    assert CUSTOMER_REMINDER_HEADING[language][1] in rendered.body.splitlines()
    assert rendered.subject.split(":")[0] in ("Rykker", "Purring", "Reminder")


# --- collection: the warning as reminder 3 (D2) and the notice that collection started (D1) ---

NUMBERED_WARNING = {
    # language: (subject, heading, this reminder's fee line for a DK creditor)
    "da": (
        "Rykker 3 med inkassovarsel vedrørende faktura 1001 fra Ærø Østergård & Søn ApS",
        "RYKKER 3 – INKASSOVARSEL",
        "Rykkergebyr for rykker 3: 100,00 kr.",
    ),
    "nb": (
        "3. purring med inkassovarsel for faktura 1001 fra Ærø Østergård & Søn ApS",
        "3. PURRING – INKASSOVARSEL",
        "Rykkergebyr for 3. purring: 100,00 DKK",
    ),
    "en": (
        "Reminder 3 with collection warning for invoice 1001 from Ærø Østergård & Søn ApS",
        "REMINDER 3 – COLLECTION WARNING",
        "Fee for reminder 3: DKK 100.00",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminder_3_with_collection_warning(language: str) -> None:
    data = letter("collection_warning", "DK", reminder_number=3, fees_total=D("300.00"))
    rendered = render_letter(data, language)
    subject, heading, fee_line = NUMBERED_WARNING[language]
    assert rendered.subject == subject
    lines = rendered.body.splitlines()
    assert heading in lines
    assert fee_line in lines
    assert format_amount(D("200.00"), "DKK", language) in rendered.body  # earlier fees
    assert format_amount(D("1534.50"), "DKK", language) in rendered.body  # total with all fees
    # still a collection warning: the consequence, the statute and the statutory deadline
    assert "inkassoloven § 10" in rendered.body
    assert format_date(dt.date(2026, 12, 3), language) in rendered.body
    assert {"da": "sendt til inkasso", "nb": "sendt til inkasso", "en": "debt collection"}[
        language
    ] in rendered.body


def test_norwegian_reminder_3_with_collection_warning() -> None:
    data = letter("collection_warning", "NO", reminder_number=3, fees_total=D("70.00"))
    rendered = render_letter(data, "nb")
    assert rendered.subject.startswith("3. purring med inkassovarsel for faktura 1001")
    lines = rendered.body.splitlines()
    assert "3. PURRING – INKASSOVARSEL" in lines
    assert "Purregebyr for 3. purring: 35,00 kr" in lines
    assert f"Totalt å betale: 1{NBSP}304,50 kr" in lines
    assert "Purregebyret på 35,00 kr kreves etter inkassoloven § 17" in rendered.body
    assert "inkassoloven § 9" in rendered.body and "minst 14 dager" in rendered.body
    english = render_letter(data, "en")
    assert english.subject.startswith("Reminder 3 with collection warning for invoice 1001")
    assert "Fee for reminder 3: NOK 35.00" in english.body.splitlines()
    assert "(inkassoloven § 9)" in english.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_collection_warning_without_a_number_is_not_called_a_reminder(language: str) -> None:
    rendered = render_letter(letter("collection_warning", "DK"), language)
    subject_start = {"da": "Inkassovarsel ", "nb": "Inkassovarsel ", "en": "Debt collection "}
    heading = {"da": "INKASSOVARSEL", "nb": "INKASSOVARSEL", "en": "DEBT COLLECTION WARNING"}
    fee_line = {
        "da": "Rykkergebyr for dette brev: 100,00 kr.",
        "nb": "Rykkergebyr for dette brevet: 100,00 DKK",
        "en": "Fee for this notice: DKK 100.00",
    }
    assert rendered.subject.startswith(subject_start[language])
    lines = rendered.body.splitlines()
    assert heading[language] in lines and fee_line[language] in lines
    for word in ("Rykker 3", "RYKKER", "purring", "PURRING", "Reminder", "REMINDER"):
        assert word not in rendered.subject and word not in rendered.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("country", "days"), [("DK", 9), ("NO", 13)])
def test_reminder_3_with_collection_warning_keeps_the_statutory_deadline(
    country: str, days: int, language: str
) -> None:
    short = letter(
        "collection_warning", country, reminder_number=3, deadline=TODAY + dt.timedelta(days)
    )
    with pytest.raises(LawViolation, match=r"inkassoloven § (10|9).*at least (10|14)"):
        render_letter(short, language)
    # one more day is the statutory minimum, and the letter says so
    enough = dataclasses.replace(short, deadline=TODAY + dt.timedelta(days + 1))
    body = render_letter(enough, language).body
    minimum = {"da": f"mindst {days + 1} dage", "nb": f"minst {days + 1} dager"}
    assert minimum.get(language, f"at least {days + 1} days") in body


def test_collection_warning_refuses_a_reminder_number_below_one() -> None:
    with pytest.raises(ValueError, match="reminder_number must be 1 or more, not 0"):
        render("collection_warning", reminder_number=0)


COLLECTION_NOTICE = {
    # language: (subject, lines of the body)
    "da": (
        "Kravet vedrørende fakturaerne F-1, F-2 fra Ærø Østergård & Søn ApS er overgivet til"
        " inkasso",
        [
            "MEDDELELSE OM INKASSO",
            "I vores inkassovarsel fik du frist til at betale senest den 20.11.2026. Fristen er"
            " overskredet, uden at vi har modtaget betaling for nedenstående fakturaer:",
            "  Faktura F-1 af 01.10.2026, forfaldsdato 31.10.2026: 1.000,00 kr.",
            "  Faktura F-2 af 01.10.2026, forfaldsdato 31.10.2026: 234,50 kr.",
            "Udestående: 1.234,50 kr.",
            "Tidligere gebyrer: 300,00 kr.",
            "I alt at betale: 1.534,50 kr.",
            "Vi beder dig betale 1.534,50 kr. straks til:",
        ],
    ),
    "nb": (
        "Kravet for fakturaene F-1, F-2 fra Ærø Østergård & Søn ApS er oversendt til inkasso",
        [
            "MELDING OM INKASSO",
            "I inkassovarselet vårt fikk du frist til å betale innen 20.11.2026. Fristen er ute,"
            " og vi har ikke mottatt betaling for fakturaene nedenfor:",
            f"  Faktura F-1 datert 01.10.2026, forfallsdato 31.10.2026: 1{NBSP}000,00 DKK",
            "  Faktura F-2 datert 01.10.2026, forfallsdato 31.10.2026: 234,50 DKK",
            f"Utestående: 1{NBSP}234,50 DKK",
            "Tidligere gebyrer: 300,00 DKK",
            f"Totalt å betale: 1{NBSP}534,50 DKK",
            f"Vi ber deg betale 1{NBSP}534,50 DKK omgående til:",
        ],
    ),
    "en": (
        "The claim for invoices F-1, F-2 from Ærø Østergård & Søn ApS has been handed over to"
        " debt collection",
        [
            "NOTICE OF DEBT COLLECTION",
            "Our debt collection warning gave you until 20 November 2026 to pay. That deadline"
            " has passed, and we have not received payment for the invoices below:",
            "  Invoice F-1 dated 1 October 2026, due 31 October 2026: DKK 1,000.00",
            "  Invoice F-2 dated 1 October 2026, due 31 October 2026: DKK 234.50",
            "Outstanding: DKK 1,234.50",
            "Earlier fees: DKK 300.00",
            "Total to pay: DKK 1,534.50",
            "Please pay DKK 1,534.50 immediately to:",
        ],
    ),
}


def notice(country: str = "DK", **changes: Any) -> LetterData:
    currency = CURRENCY[country]
    base: dict[str, Any] = {
        "invoices": (invoice("F-1", "1000.00", currency), invoice("F-2", "234.50", currency)),
        "fees_total": D("300.00"),
        "deadline": dt.date(2026, 11, 20),
    }
    return letter("collection_notice", country, **(base | changes))


@pytest.mark.parametrize("language", LANGUAGES)
def test_collection_notice_says_the_deadline_passed_and_the_claim_went_to_collection(
    language: str,
) -> None:
    rendered = render_letter(notice(), language)
    subject, expected_lines = COLLECTION_NOTICE[language]
    assert rendered.subject == subject
    lines = rendered.body.splitlines()
    for expected in expected_lines:
        assert expected in lines
    consequence = {
        "da": "Kravet er derfor nu overgivet til inkasso.",
        "nb": "Kravet er derfor nå oversendt til inkasso.",
        "en": "The claim has therefore now been handed over to debt collection.",
    }
    assert consequence[language] in rendered.body
    assert "Reg.nr. 1234 konto 5678901" in rendered.body  # how to pay
    assert "Ærø Østergård & Søn ApS" in lines  # signed by the creditor
    # the missed deadline is not offered as a date to pay or to object by
    assert rendered.body.count(format_date(dt.date(2026, 11, 20), language)) == 1


@pytest.mark.parametrize(
    ("country", "language", "citation", "not_cited"),
    [
        ("DK", "da", "Inkassovarslet blev sendt i henhold til inkassoloven § 10.", "§ 9"),
        ("DK", "nb", "Inkassovarselet ble sendt etter den danske inkassoloven § 10.", "§ 9"),
        ("DK", "en", "section 10 of the Danish Debt Collection Act (inkassoloven § 10)", "§ 9"),
        ("NO", "da", "Inkassovarslet blev sendt i henhold til den norske inkassolov § 9.", "§ 10"),
        ("NO", "nb", "Inkassovarselet ble sendt etter inkassoloven § 9.", "§ 10"),
        ("NO", "en", "section 9 of the Norwegian Debt Collection Act (inkassoloven § 9).", "§ 10"),
    ],
)  # fmt: skip
def test_collection_notice_cites_the_law_the_warning_was_given_under(
    country: str, language: str, citation: str, not_cited: str
) -> None:
    body = render_letter(notice(country, fees_total=FEE[country]), language).body
    assert citation in body
    assert not_cited not in body
    total = format_amount(D("1234.50") + FEE[country], CURRENCY[country], language)
    assert total in body  # the claim and the warning's fee


@pytest.mark.parametrize("language", LANGUAGES)
def test_collection_notice_adds_no_fee_line(language: str) -> None:
    body = render_letter(notice(), language).body
    for label in ("Rykkergebyr", "Purregebyr", "Gebyr for", "Fee for", "§ 9 b", "§ 1-2"):
        assert label not in body


def test_collection_notice_with_a_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="collection notice carries no fee"):
        render_letter(notice(fee=D("100.00"), fees_total=D("300.00")), "da")
    with pytest.raises(ValueError, match="collection notice carries no fee"):
        render_letter(notice("NO", fee=D("0.01"), fees_total=D("35.00")), "nb")


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        (None, "collection_notice: a deadline is required"),
        (TODAY, "has not passed"),
        (TODAY + dt.timedelta(days=10), "has not passed"),
    ],
)
def test_collection_notice_needs_a_deadline_that_has_passed(
    deadline: dt.date | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render_letter(notice(deadline=deadline), "da")


def test_collection_notice_the_day_after_the_deadline() -> None:
    rendered = render_letter(notice("NO", deadline=TODAY - dt.timedelta(days=1)), "nb")
    assert "innen 22.11.2026. Fristen er ute" in rendered.body
    assert rendered.subject.endswith("er oversendt til inkasso")


# --- closing ---------------------------------------------------------------------------------


def test_closing_confirmation_with_and_without_reason() -> None:
    rendered = render_letter(letter("closing_confirmation", "DK"), "da")
    assert rendered.subject == "Sagen om faktura 1001 er afsluttet"
    assert "Årsag: Betalt" in rendered.body
    assert "Tak for samarbejdet" in rendered.body
    body = render("closing_confirmation", "NO", "en", closing_reason=None)
    assert "has been closed" in body and "Reason" not in body and "Thank you" in body


# --- letters stay Unicode --------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_danish_and_norwegian_letters_survive(language: str) -> None:
    rendered = render_letter(
        letter("reminder", "DK", customer_name="Ærlige Øjvind Åberg"), language
    )
    assert "Ærø Østergård & Søn ApS" in rendered.subject
    assert "Ærlige Øjvind Åberg" in rendered.body
    assert rendered.body.encode("utf-8").decode("utf-8") == rendered.body
    if language == "nb":
        assert "å betale" in rendered.body


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "days"), [("DK", 9), ("NO", 13)])
def test_collection_warning_with_a_short_deadline_is_refused(country: str, days: int) -> None:
    with pytest.raises(LawViolation, match=r"inkassoloven § (10|9)"):
        render("collection_warning", country, deadline=TODAY + dt.timedelta(days=days))


def test_norwegian_reminder_must_give_fourteen_days() -> None:
    with pytest.raises(LawViolation, match="inkassoforskriften § 1-3"):
        render("reminder", "NO", "nb", deadline=TODAY + dt.timedelta(days=10))
    assert "RYKKER 2" in render("reminder", "DK", deadline=TODAY + dt.timedelta(days=10))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "dunning"}, "kind 'dunning'"),
        ({"country": "SE"}, "country 'SE'"),
        ({"reminder_number": None}, "reminder_number"),
        ({"deadline": None}, "deadline is required"),
        ({"deadline": TODAY - dt.timedelta(days=1)}, "before the letter's date"),
        ({"fee": D("-1")}, "0 <= fee <= fees_total"),
        ({"fees_total": D("50")}, "0 <= fee <= fees_total"),
        ({"currency": "EUR"}, "invoice 1001 is in DKK, the letter in EUR"),
        ({"invoices": ()}, "at least one invoice"),
        ({"customer_name": "Line 1\nLine 2"}, "customer_name"),
        ({"invoices": (invoice(amount="0"),), "outstanding_total": D("0")}, "nothing is owed"),
    ],
)
def test_inconsistent_data_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(**changes)


def test_friendly_reminder_with_a_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="no fee"):
        render("friendly_reminder", fee=D("100"), fees_total=D("100"))


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="letter_language"):
        render_letter(letter(), "de")


def test_float_amounts_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        render(outstanding_total=1234.5)


def test_raw_amounts_and_none_are_never_printed() -> None:
    from hub.dunning.letters import _environment

    env = _environment("da")
    for value in (D("1.5"), 1.5, TODAY, None):
        with pytest.raises(Exception, match="raw|None"):
            env.from_string("{{ x }}").render(x=value)
    assert env.from_string("{{ x|amount('DKK') }} {{ d|date }}").render(x=D("1.5"), d=TODAY) == (
        "1,50 kr. 23.11.2026"
    )


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "country", "expected"),
    [
        (None, "DK", "da"),
        (None, "NO", "nb"),
        ("da", "NO", "da"),
        ("nb", "DK", "nb"),
        ("no", "DK", "nb"),
        ("nn", "NO", "nb"),
        ("NO", "DK", "nb"),
        ("en", "DK", "en"),
        ("en-GB", "NO", "en"),
        ("da_DK", "NO", "da"),
        ("de", "DK", "da"),
        ("de", "NO", "nb"),
        ("", "NO", "nb"),
        ("sv", "DK", "da"),
    ],
)
def test_letter_language(customer: str | None, country: str, expected: str) -> None:
    assert letter_language(customer, country) == expected


def test_letter_language_needs_a_known_country() -> None:
    with pytest.raises(ValueError, match="country 'SE'"):
        letter_language("da", "SE")


# --- amounts and dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("1234.50", "DKK", "da", "1.234,50 kr."),
        ("1234.505", "DKK", "da", "1.234,51 kr."),  # half up, for display only
        ("1234.5049999", "DKK", "da", "1.234,50 kr."),
        ("-12.5", "DKK", "da", "-12,50 kr."),
        ("-1234.505", "DKK", "da", "-1.234,51 kr."),  # half up is away from zero
        ("-0.004", "DKK", "da", "0,00 kr."),  # no "-0,00"
        ("0", "DKK", "da", "0,00 kr."),
        ("999.995", "DKK", "da", "1.000,00 kr."),
        ("1234.50", "EUR", "da", "1.234,50 EUR"),
        ("1234.50", "NOK", "da", "1.234,50 NOK"),
        ("1234.50", "NOK", "nb", f"1{NBSP}234,50 kr"),
        ("1234567.5", "NOK", "nb", f"1{NBSP}234{NBSP}567,50 kr"),
        ("-12.5", "NOK", "nb", "-12,50 kr"),
        ("1234.50", "EUR", "nb", f"1{NBSP}234,50 EUR"),
        ("1234.50", "DKK", "en", "DKK 1,234.50"),
        ("1234567.891", "NOK", "en", "NOK 1,234,567.89"),
        ("-12.5", "DKK", "en", "-DKK 12.50"),
        ("100", "DKK", "en", "DKK 100.00"),
        ("1E+3", "DKK", "da", "1.000,00 kr."),
        (
            "123456789012345678901234567890.125",
            "DKK",
            "en",
            "DKK 123,456,789,012,345,678,901,234,567,890.13",
        ),
    ],
)
def test_format_amount(amount: str, currency: str, language: str, expected: str) -> None:
    assert format_amount(D(amount), currency, language) == expected


def test_nb_group_separator_is_a_no_break_space() -> None:
    assert NB_GROUP_SEPARATOR == NBSP
    assert " " not in format_amount(D("1234567"), "NOK", "nb").removesuffix(" kr")


@pytest.mark.parametrize("bad", [1234.5, 1234, "1234.50"])
def test_format_amount_refuses_anything_but_decimal(bad: Any) -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        format_amount(bad, "DKK", "da")


@pytest.mark.parametrize(
    ("amount", "currency", "language"),
    [("NaN", "DKK", "da"), ("Infinity", "DKK", "da"), ("1", "kr", "da"), ("1", "DKK", "de")],
)
def test_format_amount_refuses_what_it_cannot_write(
    amount: str, currency: str, language: str
) -> None:
    with pytest.raises(ValueError):
        format_amount(D(amount), currency, language)


def test_format_date() -> None:
    assert format_date(dt.date(2026, 11, 23), "da") == "23.11.2026"
    assert format_date(dt.date(2026, 1, 5), "nb") == "05.01.2026"
    assert format_date(dt.date(2026, 11, 23), "en") == "23 November 2026"
    assert format_date(dt.date(2026, 12, 1), "en") == "1 December 2026"
    with pytest.raises(ValueError):
        format_date(TODAY, "sv")


def parse_amount(text: str, currency: str, language: str) -> Decimal:
    """Read back what :func:`format_amount` wrote, strictly."""
    negative = text.startswith("-")
    text = text.removeprefix("-")
    if language == "en":
        code, _, number = text.partition(" ")
        assert code == currency
        integer, _, cents = number.partition(".")
        groups = integer.split(",")
    else:
        number, _, unit = text.rpartition(" ")
        words = {("da", "DKK"): "kr.", ("nb", "NOK"): "kr"}
        assert unit == words.get((language, currency), currency)
        integer, _, cents = number.partition(",")
        groups = integer.split("." if language == "da" else NBSP)
    assert len(cents) == 2 and cents.isdigit()
    assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    assert all(g.isdigit() for g in groups)
    value = Decimal("".join(groups) + "." + cents)
    return -value if negative else value


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cents=st.integers(min_value=-(10**14), max_value=10**14),
    language=st.sampled_from(LANGUAGES),
    currency=st.sampled_from(["DKK", "NOK", "EUR"]),
)
def test_format_amount_reads_back_exactly(cents: int, language: str, currency: str) -> None:
    amount = Decimal(cents).scaleb(-2)  # two places, within ±10^12
    assert parse_amount(format_amount(amount, currency, language), currency, language) == amount
