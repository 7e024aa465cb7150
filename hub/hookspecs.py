"""The plugin contract: the hooks an accounting-system plugin implements.

A plugin is a module (or object) registered under the entry point group ``receivables_hub``.
It implements any of the hooks below, decorated with :data:`hub.hookimpl`::

    from hub import hookimpl
    from hub.model import SystemInfo

    @hookimpl
    def system_info():
        return SystemInfo(name="acme", title="ACME Books", version="1.0",
                          capabilities=frozenset({"customer_balance"}))

Accounting plugins (``SystemInfo.kind == "accounting"``) implement the ``fetch_*`` and write
hooks; delivery plugins (``kind == "delivery"``) implement :func:`deliver_message`.

Rules every hook follows:

* **One client, one plugin.** The core calls the accounting hooks for one client at a time and
  only on that client's enabled plugin; ``ctx`` (:class:`hub.model.ClientContext`) carries that
  client's decrypted settings for your plugin and nothing else. Keep no state between calls
  that could carry one client's data or credentials into another's call.
* **Values, not dicts.** Return the dataclasses of :mod:`hub.model`. They check themselves:
  amounts are ``Decimal`` with an ISO 4217 currency, dates are ``datetime.date``.
* **Errors.** Raise the errors of :mod:`hub.errors`: ``AuthError`` (credentials refused; say
  which one), ``ThrottledError`` (429 after retries), ``RemoteServerError`` (5xx, timeouts after
  retries), ``RemoteRequestError`` (any other refusal), ``InvalidDataError`` (the system's data is
  malformed; say where). Anything else is reported as a plugin bug.
* **Capabilities.** A hook guarded by a capability is called only when :func:`system_info`
  declares it; the core says why an action is not offered otherwise.
* **Writes are idempotent.** Every write carries an ``idempotency_key`` derived by the core from
  its own records (``writeoff:<case>``, ``creditnote:<case>``, ``recurring:<agreement>:<n>``).
  Called twice with the same key, a write must make one effect and return the same reference.
  The core records its intent before calling and the reference after; after a crash between
  the two it calls again with the same key and the very same request (on a later day,
  perhaps: take dates from the request, never from ``ctx.today``), so a plugin must honour
  the key, not just dedupe within a process (the conformance kit,
  :mod:`hub.testing.conformance`, repeats every write from a fresh process, a day later, to
  prove it).
* **Batches.** Hooks that take a list of numbers are called once for many (hundreds or
  thousands); answer them with as few requests as the system allows, never one per number
  where a filter or page exists.

The accounting and delivery hooks are ``firstresult`` and the core calls them on one plugin
only, so your answer is the answer. Returning ``None`` is an invalid answer and is reported as
such. Which hooks a plugin must implement is checked when it is loaded: an accounting plugin
needs ``fetch_open_invoices``, ``fetch_invoice_status`` and ``fetch_customers``, a delivery
plugin ``deliver_message``, and every declared capability needs its hook; a plugin that lacks
one is reported by ``hub plugins list`` and not loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pluggy

from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceDraft,
    InvoiceStatus,
    JournalEntry,
    OutgoingMessage,
    SystemInfo,
)

PROJECT_NAME = "receivables_hub"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def system_info() -> SystemInfo:  # type: ignore[empty-body]
    """Describe the plugin: name, title, version, capabilities and settings schema.

    Called without a client, when plugins are loaded and listed. Must be cheap and make no
    network calls.

    :returns: a :class:`hub.model.SystemInfo`. ``name`` must equal the entry point name.
        ``capabilities`` is a subset of :data:`hub.model.CAPABILITIES`. ``settings`` lists every
        setting the plugin reads from ``ctx.settings``, with ``required``, ``secret``, ``type``
        and ``default``; the CLI refuses any other key and any value of the wrong type.
    :raises: nothing; a plugin whose ``system_info`` fails is reported and skipped.
    """


@hookspec(firstresult=True)
def fetch_open_invoices(ctx: ClientContext) -> list[Invoice]:  # type: ignore[empty-body]
    """Return every open (unpaid, outstanding > 0) booked invoice of the client.

    Read-only and safe to repeat. Fetch all pages; the core stores the result in one
    transaction, so a partial answer must be an error, never a short list.

    :param ctx: the client and its settings for this plugin.
    :returns: a list of :class:`hub.model.Invoice`, each with customer number, invoice number,
        invoice and due dates, net/VAT/gross, outstanding amount and currency. Invoice numbers
        are unique within the list.
    :raises InvalidDataError: a record is malformed; name where (file:line:column, URL). Do not
        skip the record.
    :raises AuthError | ThrottledError | RemoteServerError | RemoteRequestError: see module doc.
    """


@hookspec(firstresult=True)
def fetch_invoice_status(  # type: ignore[empty-body]
    ctx: ClientContext, invoice_numbers: Sequence[str]
) -> list[InvoiceStatus]:
    """Return outstanding amount and state of each named invoice, in one batch.

    The core calls this once per sync with every invoice it follows (thousands at a time);
    answer with as few requests as the system allows. Read-only and safe to repeat.

    :param ctx: the client and its settings for this plugin.
    :param invoice_numbers: invoice numbers, unique, in no particular order.
    :returns: exactly one :class:`hub.model.InvoiceStatus` per requested number. A number the
        system does not know gets ``state=InvoiceState.UNKNOWN`` (never an omission, never an
        error), so the core can tell "paid" from "not found".
    :raises: as :func:`fetch_open_invoices`.
    """


@hookspec(firstresult=True)
def fetch_customer_balance(  # type: ignore[empty-body]
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[CustomerBalance]:
    """Return each named customer's total outstanding balance. Capability ``customer_balance``.

    Used for auto-close rule R2 (balance ≤ 0 closes the case) and customer-mode reminders.
    Batched like :func:`fetch_invoice_status`. Read-only.

    :param ctx: the client and its settings for this plugin.
    :param customer_numbers: customer numbers, unique.
    :returns: one :class:`hub.model.CustomerBalance` per customer the system knows; unknown
        customers are left out (the core reports them).
    :raises: as :func:`fetch_open_invoices`.
    """


@hookspec(firstresult=True)
def fetch_customers(  # type: ignore[empty-body]
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[Customer]:
    """Return contact data (name, e-mail, address, language) for letters and e-mails.

    Batched like :func:`fetch_invoice_status`. Read-only.

    :param ctx: the client and its settings for this plugin.
    :param customer_numbers: customer numbers, unique.
    :returns: one :class:`hub.model.Customer` per customer the system knows; unknown customers
        are left out.
    :raises: as :func:`fetch_open_invoices`.
    """


@hookspec(firstresult=True)
def create_credit_note(ctx: ClientContext, request: CreditNoteRequest) -> str:  # type: ignore[empty-body]
    """Create (and book) a credit note against an invoice. Capability ``credit_note``.

    Idempotent on ``request.idempotency_key``: a second call with the same key creates nothing
    and returns the first call's reference.

    :param ctx: the client and its settings for this plugin.
    :param request: invoice, customer, date, gross amount with currency, reason.
    :returns: the accounting system's reference for the credit note (its number or id), as text.
    :raises RemoteRequestError: the system refused it (e.g. the invoice does not exist).
    :raises: otherwise as :func:`fetch_open_invoices`.
    """


@hookspec(firstresult=True)
def post_journal_lines(ctx: ClientContext, entry: JournalEntry) -> str:  # type: ignore[empty-body]
    """Post a balanced voucher to the client's journal. Capability ``journal``.

    Used for loss write-offs (rule D4): a customer line for the gross amount (credit, clearing
    the receivable; its ``invoice_number`` names the invoice it settles, so match it there)
    and account lines for the net (loss account) and VAT (output-VAT account).
    Idempotent on ``entry.idempotency_key``, as :func:`create_credit_note`.

    :param ctx: the client and its settings for this plugin.
    :param entry: the voucher; its lines sum to zero (debit positive).
    :returns: the accounting system's reference for the voucher, as text.
    :raises: as :func:`create_credit_note`.
    """


@hookspec(firstresult=True)
def create_invoice(ctx: ClientContext, draft: InvoiceDraft) -> str:  # type: ignore[empty-body]
    """Create an invoice (``draft.kind == "invoice"``, capability ``create_invoice``) and book
    it, or an order (``"order"``, capability ``create_order``) that waits for a person.

    Used by the recurring-invoice generator. Idempotent on ``draft.idempotency_key``, as
    :func:`create_credit_note`: this is what keeps an agreement from billing a period twice.

    :param ctx: the client and its settings for this plugin.
    :param draft: customer, dates, currency and lines (net unit prices, VAT codes).
    :returns: the accounting system's reference for the invoice or order, as text.
    :raises: as :func:`create_credit_note`.
    """


@hookspec
def check_settings(settings: Mapping[str, str]) -> None:
    """Refuse settings the plugin cannot work with, when they are set (optional, any kind).

    Called by ``hub clients enable`` and ``hub clients set`` (:func:`hub.clients.enable_plugin`,
    :func:`hub.clients.set_settings`) before anything is committed; it must be cheap: no
    network, no client context.
    Check again in the hooks that use the settings: settings stored before a plugin learnt a
    rule reach them unchecked.

    :param settings: the plugin's settings for the client as they are about to be stored, the
        schema's defaults filled in, each already checked against its
        :class:`~hub.model.SettingSpec`. A secret setting's value is not given: a set one reads
        as the mask ``********``.
    :returns: nothing; return normally to accept the settings.
    :raises SettingsError: naming the settings and why they cannot work together (a login
        without encryption, a setting another one needs) or why one value cannot work (a
        choice that is not one of the allowed ones, a malformed mapping), never a secret's
        value; nothing is stored then.
    """


@hookspec(firstresult=True)
def deliver_message(ctx: ClientContext, message: OutgoingMessage) -> str:  # type: ignore[empty-body]
    """Deliver a rendered letter or e-mail to a customer. Capability ``deliver``.

    Implemented by *delivery* plugins (``SystemInfo.kind == "delivery"``), which a client
    enables beside its accounting plugin; a client without one gets the file outbox. The core
    keeps every message in its outbox table and calls this after the message is committed; a
    failure leaves it queued and it is tried again at the next sync, so a message is never lost.

    :param ctx: the client and its settings for this delivery plugin.
    :param message: recipient, subject and body, already rendered in the customer's language.
    :returns: the channel's reference (a file name, an SMTP Message-ID), as text.
    :raises RemoteServerError: the channel failed in a way worth retrying (server down,
        temporary SMTP failure).
    :raises RemoteRequestError: the channel refused this message (no e-mail address,
        recipient rejected); the core keeps it as failed, with the reason, for a person.
    """
