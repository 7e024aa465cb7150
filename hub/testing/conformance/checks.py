"""What the kit compares: a plugin's answers against what the backend holds, and a settings
schema against what users and operators need. Each check returns the problems it found, in
words an integrator can act on; an empty list means none."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from hub.model import Customer, CustomerBalance, Invoice, InvoiceState, InvoiceStatus, SystemInfo
from hub.testing.conformance.data import ConformanceData

SHOWN = 5
_SETTING_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Words that make a setting a credential ("api_key", "client_secret", "access_token")...
_CREDENTIAL_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "apikey",
        "key",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "pin",
    }
)
#: ...unless its last word says it names where or which one ("token_url", "key_file").
_NOT_THE_CREDENTIAL = frozenset({"url", "uri", "path", "file", "dir", "name", "id", "header"})


def some(items: Sequence[str]) -> str:
    """The first few of ``items``, and how many more there are."""
    shown = "; ".join(items[:SHOWN])
    more = len(items) - SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def is_credential_name(name: str) -> bool:
    words = name.lower().split("_")
    return bool(_CREDENTIAL_WORDS & set(words)) and words[-1] not in _NOT_THE_CREDENTIAL


def settings_schema_problems(info: SystemInfo) -> list[str]:
    """Every setting must be one a user can type, understand and keep safe."""
    problems = []
    for spec in info.settings:
        what = f"setting {spec.name!r}"
        if not _SETTING_NAME.fullmatch(spec.name):
            problems.append(f"{what}: name it in lowercase words joined by _ (users type it)")
        if not spec.description.strip():
            problems.append(f"{what}: give it a description (`hub plugins list` shows it)")
        if spec.secret and spec.default is not None:
            problems.append(
                f"{what}: a secret with a default is a credential in your source code;"
                " drop the default"
            )
        elif spec.default is not None:
            if spec.required:
                problems.append(
                    f"{what}: required and with a default, it can never be missing; drop one"
                )
            try:
                spec.parse(spec.default)
            except ValueError as exc:
                problems.append(f"{what}: its default {spec.default!r} {exc}")
        if is_credential_name(spec.name) and not spec.secret:
            problems.append(
                f"{what}: its name says it is a credential; declare it secret=True so it is"
                " encrypted at rest and masked in output and logs"
            )
    return problems


def _cents(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


_INVOICE_FIELDS = (
    "customer_number",
    "invoice_date",
    "due_date",
    "currency",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "outstanding_amount",
)


def _invoice_differences(expected: Invoice, got: Invoice) -> list[str]:
    differences = []
    for name in _INVOICE_FIELDS:
        want, have = getattr(expected, name), getattr(got, name)
        if want != have:
            differences.append(
                f"invoice {expected.invoice_number}: {name} is {have!r}, not {want!r}"
            )
        elif isinstance(have, Decimal) and not _cents(have):
            differences.append(
                f"invoice {expected.invoice_number}: {name} {have!r} has more than two decimals"
                " (give the amount as the system has it, to the øre)"
            )
    return differences


def open_invoice_problems(got: Sequence[Invoice], data: ConformanceData) -> list[str]:
    """Every open invoice once, exactly as held; nothing else."""
    expected = {i.invoice_number: i for i in data.open_invoices}
    paid = {i.invoice_number for i in data.paid_invoices}
    numbers = [i.invoice_number for i in got]
    problems = []
    twice = sorted(n for n, count in Counter(numbers).items() if count > 1)
    if twice:
        problems.append(f"invoices listed more than once: {some(twice)}")
    listed_paid = sorted(set(numbers) & paid)
    if listed_paid:
        problems.append(f"paid invoices (nothing outstanding) listed as open: {some(listed_paid)}")
    unexpected = sorted(set(numbers) - set(expected) - paid)
    if unexpected:
        problems.append(f"invoices the backend does not hold: {some(unexpected)}")
    missing = sorted(set(expected) - set(numbers))
    if missing:
        problems.append(f"{len(missing)} open invoices missing: {some(missing)}")
    differences = [
        difference
        for invoice in got
        if invoice.invoice_number in expected
        for difference in _invoice_differences(expected[invoice.invoice_number], invoice)
    ]
    if differences:
        problems.append("values differ from what the system holds: " + some(differences))
    return problems


def status_problems(statuses: Sequence[InvoiceStatus], data: ConformanceData) -> list[str]:
    """Open invoices OPEN with what is outstanding; paid ones PAID (or CREDITED) with 0; numbers
    the system does not hold UNKNOWN, with no amount."""
    by_number = {i.invoice_number: i for i in data.invoices}
    problems = []
    for status in statuses:
        invoice = by_number.get(status.invoice_number)
        if invoice is None:
            if status.state is not InvoiceState.UNKNOWN or status.outstanding_amount is not None:
                problems.append(
                    f"{status.invoice_number} (not in the system) is {status.state.value} with"
                    f" {status.outstanding_amount!r}, not unknown with no amount"
                )
            continue
        if invoice.outstanding_amount > 0:
            want = {InvoiceState.OPEN}
        else:
            want = {InvoiceState.PAID, InvoiceState.CREDITED}
        if status.state not in want:
            problems.append(
                f"{status.invoice_number} is {status.state.value}, not"
                f" {'/'.join(sorted(s.value for s in want))} (outstanding"
                f" {invoice.outstanding_amount})"
            )
        elif status.outstanding_amount != invoice.outstanding_amount:
            problems.append(
                f"{status.invoice_number}: outstanding {status.outstanding_amount!r},"
                f" not {invoice.outstanding_amount!r}"
            )
        elif status.currency != invoice.currency:
            problems.append(
                f"{status.invoice_number}: currency {status.currency!r}, not {invoice.currency!r}"
            )
    return problems


def customer_problems(got: Sequence[Customer], data: ConformanceData) -> list[str]:
    """Each known customer once, with its name and e-mail as held; unknown ones left out."""
    expected = {c.customer_number: c for c in data.customers}
    problems = []
    missing = sorted(set(expected) - {c.customer_number for c in got})
    if missing:
        problems.append(f"{len(missing)} customers missing: {some(missing)}")
    for customer in got:
        want = expected.get(customer.customer_number)
        if want is None:
            problems.append(f"customer {customer.customer_number} is not in the system")
            continue
        for name in ("name", "email"):
            if getattr(customer, name) != getattr(want, name):
                problems.append(
                    f"customer {customer.customer_number}: {name} is"
                    f" {getattr(customer, name)!r}, not {getattr(want, name)!r}"
                )
    return problems


def balance_problems(got: Sequence[CustomerBalance], data: ConformanceData) -> list[str]:
    """Each known customer's balance, to the øre, in the client's currency."""
    expected = data.balances()
    answered = {b.customer_number: b for b in got}
    problems = []
    for number, balance in expected.items():
        answer = answered.get(number)
        if answer is None:
            problems.append(f"no balance for customer {number}")
        elif answer.balance != balance or answer.currency != data.currency:
            problems.append(
                f"customer {number}: {answer.balance} {answer.currency},"
                f" not {balance} {data.currency}"
            )
    unknown = sorted(set(answered) - set(expected))
    if unknown:
        problems.append(f"a balance for customer(s) not in the system: {some(unknown)}")
    return problems
