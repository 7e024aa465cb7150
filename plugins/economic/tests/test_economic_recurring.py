"""Recurring agreements on e-conomic, end to end over real HTTP: the booked invoice's due date
is the agreement's (seed 004: "no credit days" and the payment days override the customer's
payment terms), or nothing is booked."""

from __future__ import annotations

import datetime as dt

from economic_support import context, enable

from hub import clients
from hub.db.engine import Database
from hub.operations import recurring
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.testing.fakes.economic import Agreement, EconomicServer

TODAY = dt.date(2026, 2, 1)


def add(
    db: Database, registry: PluginRegistry, box: SecretBox, **terms: object
) -> recurring.AgreementAdded:
    request = recurring.TermsRequest(
        every=1,
        unit="month",
        first_invoice_date=TODAY,
        lines=["Abonnement;1;499.00;fixed"],
        **terms,  # type: ignore[arg-type]
    )
    return recurring.add_agreement(
        context(db, registry, box, TODAY), recurring.AddAgreement("acme", "101", request)
    )


def run(db: Database, registry: PluginRegistry, box: SecretBox) -> recurring.RecurringReport:
    return recurring.run_due_named(context(db, registry, box, TODAY), "acme")


def test_no_credit_days_books_the_invoice_due_on_its_date(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    agreement: Agreement,
) -> None:
    # The customer's terms are "Netto 8 dage"; terms 5 are of type "dueDate" (Forfaldsdato).
    enable(db, registry, box, server, product_number="1", due_date_payment_terms_number="5")
    add(db, registry, box, no_credit_days=True)
    add(db, registry, box, payment_days=20)

    report = run(db, registry, box)

    assert report.failed == [] and len(report.generated) == 2
    booked = sorted(agreement.booked.values(), key=lambda i: i.booked_invoice_number)
    assert [(i.date, i.due_date) for i in booked] == [
        (TODAY, TODAY),
        (TODAY, TODAY + dt.timedelta(days=20)),
    ]
    assert all(i.payment_terms.kind == "dueDate" for i in booked)


def test_terms_that_would_move_the_due_date_leave_the_invoice_unbooked(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    agreement: Agreement,
) -> None:
    enable(db, registry, box, server, product_number="1")  # no due-date terms named
    added = add(db, registry, box, no_credit_days=True)

    report = run(db, registry, box)

    assert agreement.booked == {}
    [failure] = report.failed
    assert "due 2026-02-09 by its payment terms 1 (type net), not 2026-02-01" in failure["error"]
    assert "due_date_payment_terms_number" in failure["error"]
    view = recurring.show_agreement(context(db, registry, box, TODAY), added.summary.id)
    assert [made.state for made in view.made] == ["pending"]

    # The operator names the due-date terms and deletes the draft, as the error says; the
    # next run (within e-conomic's idempotency hour) makes it anew and books it due today.
    with db.session() as session:
        clients.set_settings(session, registry, box, "acme", {"due_date_payment_terms_number": "5"})
    with agreement._lock:
        agreement.drafts.clear()
    report = run(db, registry, box)

    assert report.failed == []
    [invoice] = agreement.booked.values()
    assert (invoice.date, invoice.due_date) == (TODAY, TODAY)


def test_terms_that_agree_with_the_agreement_need_no_setting(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    agreement: Agreement,
) -> None:
    enable(db, registry, box, server, product_number="1")
    add(db, registry, box, payment_days=8)  # the customer's terms are "Netto 8 dage"

    assert run(db, registry, box).failed == []
    [invoice] = agreement.booked.values()
    assert invoice.due_date == TODAY + dt.timedelta(days=8)
