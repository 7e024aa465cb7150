"""What the conformance kit needs from the system a plugin talks to: :class:`ConformanceBackend`.

An integrator writes one backend class for their fake server (or sandbox account) and returns
it from the ``backend`` fixture of their :class:`~hub.testing.conformance.PluginConformance`
subclass. The kit never looks inside the plugin: it seeds records through the backend, calls
the hooks the way the core does, and asks the backend what the system now holds.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Literal

from hub.testing.conformance.data import ConformanceData

#: Faults the kit asks a backend to produce (see :meth:`ConformanceBackend.fault`).
Fault = Literal["auth", "throttle", "server_error", "malformed"]
#: Documents a write makes, by the capability that makes them.
Effect = Literal["credit_note", "voucher", "invoice", "order", "message"]


class ConformanceBackend(ABC):
    """The system behind a plugin, as the kit sees it. Subclass it for your fake or sandbox.

    Only :meth:`settings` is always needed. An accounting plugin's backend implements
    :meth:`seed`; a plugin that writes implements :meth:`effects`; :meth:`fault` makes the
    error-mapping tests possible. A method left unimplemented fails the tests that need it,
    saying so, unless the test is opted out with a reason.
    """

    #: How many records the system returns in one page (or the plugin asks for in one
    #: request). The kit seeds more than two pages' worth of invoices, so that a plugin that
    #: reads only the first page fails.
    page_size: int = 100
    #: The client the kit's context is for.
    country: str = "DK"
    currency: str = "DKK"
    timezone: str = "Europe/Copenhagen"
    #: The client's today (``ClientContext.today``, and the dates the kit's records are
    #: relative to). A fake with a clock of its own should agree with it.
    today: dt.date = dt.date(2026, 2, 1)
    #: The loss and output-VAT accounts of the write-off voucher the journal test posts.
    journal_accounts: tuple[str, str] = ("3720", "6902")
    #: The VAT code of the lines of the invoice (and order) the kit creates; ``None`` leaves
    #: it to the system's default.
    vat_code: str | None = None
    #: Where a message the delivery test sends goes (the kit's test recipient).
    recipient_email: str | None = "bogholderi@oestergaard.example"

    @abstractmethod
    def settings(self) -> dict[str, str]:
        """The plugin settings (``hub clients enable ... --set``) that reach this backend,
        secrets included, as text. The kit checks them against the plugin's settings schema
        and fills in the schema's defaults, as the core does."""

    def seed(self, data: ConformanceData) -> None:
        """Make the system hold ``data``: its customers and its invoices, booked, each with
        exactly the amounts, dates and currency given and ``outstanding_amount`` still owed
        (0: paid in full). Numbers in ``data.unknown_*`` must stay unknown."""
        raise NotImplementedError(
            f"{type(self).__name__}.seed() is not implemented: the read tests need it"
        )

    def effects(self, kind: Effect) -> set[str] | Mapping[str, str]:
        """What the system holds now of documents of ``kind`` made through the plugin
        (identities of credit notes, vouchers, invoices, orders, delivered messages).

        Identities alone (a set), or each with a fingerprint of its content ({identity:
        fingerprint}, e.g. its lines and amounts): with fingerprints, a repeat that writes
        into an existing document (a second voucher under the same number) is caught too.
        The kit reads it before and after writing, so only the difference matters. For a
        channel that cannot take a message back and lets receivers drop repeats by an id
        (SMTP's Message-ID), return the ids: what the receiver keeps is one message per id.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.effects() is not implemented: the write tests need it"
        )

    def requests_made(self) -> int:
        """How many requests the system has answered so far (optional). With it, the kit
        checks that batched reads are batched: a plugin that asks one number per request
        makes a sync of thousands of invoices take thousands of round trips."""
        raise NotImplementedError(f"{type(self).__name__}.requests_made() is not implemented")

    def fault(self, kind: Fault) -> AbstractContextManager[dict[str, str]]:
        """A context manager: while it is open, the system fails as ``kind`` says; it yields
        the settings to use meanwhile (for ``auth``, settings with refused credentials).

        * ``auth``: credentials refused (HTTP 401/403) → the plugin raises ``AuthError``;
        * ``throttle``: every request throttled (429) → ``ThrottledError`` (after retries: a
          short ``Retry-After`` or a fast retry policy keeps the test quick);
        * ``server_error``: every request fails (5xx) → ``RemoteServerError``;
        * ``malformed``: an answer the plugin cannot read (an amount that is not a number, a
          missing field) → ``InvalidDataError``, never a skipped record.
        """
        raise NotImplementedError(f"{type(self).__name__}.fault({kind!r}) is not implemented")
