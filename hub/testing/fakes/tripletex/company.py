"""One Tripletex company (client account) of the fake, with its books. Created by
:meth:`FakeTripletex.add_company <hub.testing.fakes.tripletex.FakeTripletex.add_company>`; see
:mod:`hub.testing.fakes.tripletex` for what is faithful and what is chosen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hub.testing.fakes.money import ZERO, money
from hub.testing.fakes.tenants import Tenant
from hub.testing.fakes.tripletex import ledger
from hub.testing.fakes.tripletex.model import (
    CHART,
    CURRENCIES,
    Account,
    Address,
    CloseGroup,
    Customer,
    Invoice,
    Order,
    Posting,
    Voucher,
)

__all__ = ["Company"]


class Company(Tenant):
    """A company's state, plain attributes meant to be inspected by tests (change it through the
    methods, which take the fake's lock):

    * ``customers``, ``invoices``, ``orders``, ``vouchers``, ``accounts``, ``postings``:
      dicts by Tripletex id (insertion order = creation order);
    * the vouchers of invoices added by :meth:`add_invoice` are built when first needed (a
      seed of 100 000 invoices stays fast): ``vouchers``/``postings`` build them, as does every
      request that reads the ledger; their ids are reserved up front;
    * ``id``, ``name``, ``currency``, ``consumer_token``, ``employee_token``, ``employee_id``.
    """

    def __init__(
        self,
        *,
        lock: threading.RLock,
        next_id: Callable[[], int],
        today: Callable[[], date],
        company_id: int,
        employee_id: int,
        consumer_token: str,
        employee_token: str,
        name: str,
        currency: str,
    ) -> None:
        if currency not in CURRENCIES:
            raise ValueError(f"unknown currency {currency!r}")
        super().__init__(lock=lock, today=today)
        self.next_id = next_id
        self.id = company_id
        self.employee_id = employee_id
        self.consumer_token = consumer_token
        self.employee_token = employee_token
        self.name = name
        self.currency = currency
        self.organization_number = str(910_000_000 + company_id % 89_999_999)
        self.customers: dict[int, Customer] = {}
        self.invoices: dict[int, Invoice] = {}
        self.orders: dict[int, Order] = {}
        self._vouchers: dict[int, Voucher] = {}
        self._postings: dict[int, Posting] = {}
        self.pending: list[Invoice] = []  # invoices whose vouchers are not built yet
        self.accounts: dict[int, Account] = {}
        self.groups: dict[int, CloseGroup] = {}
        self.account_by_number: dict[int, Account] = {}
        self.customer_by_number: dict[int, Customer] = {}
        self.invoice_by_number: dict[int, Invoice] = {}
        self.voucher_numbers: dict[int, int] = {}  # year -> last voucher number
        self.temp_numbers = 0
        self.order_numbers = 0
        self.reserved_invoice_ids: set[int] = set()
        for number, (acc_name, kind, ledger_type, vat, bank, closeable) in CHART.items():
            account = Account(
                id=next_id(),
                number=number,
                name=acc_name,
                type=kind,
                ledger_type=ledger_type,
                vat_type_id=vat,
                is_bank_account=bank,
                is_closeable=closeable,
                bank_account_number="15030012345" if number == 1920 else "",
            )
            self.accounts[account.id] = account
            self.account_by_number[number] = account

    @property
    def vouchers(self) -> dict[int, Voucher]:
        self.materialize()
        return self._vouchers

    @property
    def postings(self) -> dict[int, Posting]:
        self.materialize()
        return self._postings

    def materialize(self) -> None:
        """Build the vouchers of invoices added by :meth:`add_invoice`, in the order they were
        added (so voucher numbers follow invoice order)."""
        if self.pending:
            with self._lock:
                ledger.materialize(self)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def next_invoice_number(self) -> int:
        return max(self.invoice_by_number, default=0) + 1

    def invoices_in_order(self) -> list[Invoice]:
        return list(self.invoices.values())

    # --- set-up (tests; no HTTP) -------------------------------------------------------------

    def add_customer(
        self,
        customer_number: int,
        name: str,
        email: str | None = None,
        *,
        organization_number: str | None = None,
        address: str | None = None,
        postal_code: str | None = None,
        city: str | None = None,
        invoices_due_in: int = 14,
        currency: str | None = None,
        invoice_email: str | None = None,
    ) -> Customer:
        """Add a customer; ``.id`` is its Tripletex id (not ``customer_number``)."""
        currency = currency or self.currency
        if currency not in CURRENCIES:
            raise ValueError(f"unknown currency {currency!r}")
        with self._lock:
            if customer_number in self.customer_by_number:
                raise ValueError(f"customer number {customer_number} exists")
            postal = Address(self.next_id(), address or "", postal_code or "", city or "")
            physical = Address(self.next_id(), "", "", "")
            customer = Customer(
                id=self.next_id(),
                customer_number=customer_number,
                name=name,
                email=email or "",
                invoice_email=invoice_email if invoice_email is not None else email or "",
                organization_number=organization_number or "",
                postal_address=postal,
                physical_address=physical,
                invoices_due_in=invoices_due_in,
                currency=currency,
            )
            self.customers[customer.id] = customer
            self.customer_by_number[customer_number] = customer
            return customer

    def add_invoice(
        self,
        invoice_number: int,
        customer_number: int,
        invoice_date: date,
        due_date: date,
        amount_excluding_vat: Decimal,
        vat: Decimal,
        *,
        outstanding: Decimal | None = None,
        currency: str | None = None,
    ) -> Invoice:
        """Add a charged invoice with its voucher (customer account +gross, revenue -net, VAT
        -vat). Amounts are in ``currency`` (default: the customer's). ``outstanding`` ``None``:
        unpaid; less than the gross amount: the difference is paid by a bank payment posted on
        ``invoice_date``."""
        with self._lock:
            if invoice_number in self.invoice_by_number:
                raise ValueError(f"invoice number {invoice_number} exists")
            customer = self.customer_by_number.get(customer_number)
            if customer is None:
                raise ValueError(f"no customer number {customer_number}; add_customer first")
            net, vat_amount = money(amount_excluding_vat), money(vat)
            invoice = ledger.new_invoice(
                self,
                invoice_number=invoice_number,
                customer=customer,
                invoice_date=invoice_date,
                due_date=due_date,
                currency=currency or customer.currency,
                parts=[(ledger.vat_type_for(net, vat_amount), net, vat_amount)],
                lazy=True,
            )
            if outstanding is not None:
                paid = money(invoice.amount_currency - money(outstanding))
                if paid < 0 or money(outstanding) < 0:
                    raise ValueError("outstanding must be between 0 and the gross amount")
                if paid > 0:
                    ledger.payment(self, invoice, paid, invoice_date)
            return invoice

    def register_payment(self, invoice_number: int, amount: Decimal, payment_date: date) -> None:
        """The customer pays ``amount`` (invoice currency) of an invoice: a bank voucher (bank
        +amount, customer account -amount naming the invoice) lowers ``amountOutstanding``; an
        amount above it stays a credit (open post) on the customer."""
        with self._lock:
            invoice = self.invoice_by_number.get(invoice_number)
            if invoice is None:
                raise ValueError(f"no invoice number {invoice_number}")
            if money(amount) <= 0:
                raise ValueError("a payment is a positive amount")
            ledger.payment(self, invoice, money(amount), payment_date)

    def customer(self, customer_number: int) -> Customer:
        return self.customer_by_number[customer_number]

    def invoice(self, invoice_number: int) -> Invoice:
        return self.invoice_by_number[invoice_number]

    def balance(self, customer_number: int, before: date | None = None) -> Decimal:
        """The customer's balance on customer accounts (postings dated before ``before``;
        default: all), in NOK: what the open posts sum to."""
        with self._lock:
            self.materialize()
            customer = self.customer_by_number[customer_number]
            limit = before or date.max
            total = sum((p.amount_gross for p in customer.postings if p.date < limit), ZERO)
            return money(total)

    def due_date_for(self, issued: date, days: int, kind: str) -> date:
        """``invoiceDueDate`` from an order's ``invoicesDueIn``/``invoicesDueInType``."""
        if kind == "MONTHS":
            month = issued.month - 1 + days
            year = issued.year + month // 12
            month = month % 12 + 1
            for day in (issued.day, 30, 29, 28):
                try:
                    return date(year, month, day)
                except ValueError:
                    continue
        if kind == "RECURRING_DAY_OF_MONTH":
            day = max(1, min(days, 28))
            candidate = issued.replace(day=day)
            if candidate <= issued:
                candidate = self.due_date_for(candidate, 1, "MONTHS")
            return candidate
        return issued + timedelta(days=days)
