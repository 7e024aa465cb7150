"""A conformance backend for one of the hub's fakes served over loopback HTTP.

:class:`ServedFakeBackend` is the part of an HTTP plugin's backend that is no vendor's: it
serves the fake while the backend is open (a context manager), makes the plugin retry fast in
this process, counts the requests the fake received, and makes the kit's faults (refused
credentials; every request throttled, failing or unreadable until the fault closes). A backend
names its fake, its server and its plugin's HTTP options, and adds what is the vendor's: the
settings, how to seed the kit's records, and the documents a write made.

Real HTTP, not an in-process transport: the kit repeats every write in a fresh Python process
(the plugin loaded from its entry point, default HTTP options) to prove that a key writes once
across a restart, and that process can only reach the fake through a socket.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any, ClassVar, Generic, Self, TypeVar

from hub.model import Customer, Invoice
from hub.testing.conformance.backend import ConformanceBackend
from hub.testing.conformance.backend import Fault as FaultKind
from hub.testing.conformance.data import ConformanceData
from hub.testing.fakes.app import FakeApplication
from hub.testing.fakes.faults import Fault
from hub.testing.fakes.http import FakeHttpServer
from hub.toolkit.http import RetryPolicy
from hub.toolkit.pool import HttpOptions

#: Requests a fault lasts for: every request the kit makes while the fault is open (cleared
#: when it closes).
FAULT_REQUESTS = 100_000
#: Retries in this process: 3 attempts, a few milliseconds apart, so that the throttling and
#: server-error tests take milliseconds. The fresh process of the write tests keeps the
#: plugin's defaults.
FAST_RETRY = RetryPolicy(
    max_attempts=3, initial_backoff=0.001, max_backoff=0.002, max_retry_after=5
)

FakeT = TypeVar("FakeT", bound=FakeApplication[Any, Any])
FaultT = TypeVar("FaultT", bound=Fault)


class ServedFakeBackend(ConformanceBackend, Generic[FakeT, FaultT]):
    """``fake`` served by ``server`` on 127.0.0.1 while the backend is open; the plugin's
    client pool (its ``configure``) takes ``options`` meanwhile.

    ``queue_fault`` queues a fault of the fake's ``fault_type`` for its next requests. A
    subclass names the setting the ``auth`` fault replaces with a value the fake refuses
    (``refused_setting``, the value starting with ``refused_prefix``) and may override
    :meth:`forget` to drop what the plugin caches between clients.
    """

    #: The system's name, in what the backend raises.
    system: ClassVar[str]
    refused_setting: ClassVar[str]
    refused_prefix: ClassVar[str]

    def __init__(
        self,
        fake: FakeT,
        server: FakeHttpServer,
        configure: Callable[[HttpOptions], HttpOptions],
        options: HttpOptions,
        queue_fault: Callable[[FaultT], None],
        fault_type: type[FaultT],
    ) -> None:
        self.fake = fake
        self.server = server
        self._configure = configure
        self._fast = options
        self._queue_fault = queue_fault
        self._faults: dict[str, FaultT] = {
            # A short Retry-After (or the vendor's own header), honoured on every attempt, then
            # ThrottledError: the retry path runs, and it stays quick.
            "throttle": fault_type(status=429, retry_after=0.05, count=FAULT_REQUESTS),
            "server_error": fault_type(status=500, count=FAULT_REQUESTS),
            # A 200 whose body is cut off mid-JSON: whatever the plugin reads, it cannot read.
            "malformed": fault_type(malformed=True, count=FAULT_REQUESTS),
        }
        self._options: HttpOptions | None = None
        #: The numbers of the invoices :meth:`seed` booked (a write's invoices are the others).
        self.seeded: set[int] = set()

    def forget(self) -> None:
        """Drop what the plugin caches across calls (on opening and on closing)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.server.start()
        self._options = self._configure(self._fast)
        self.forget()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._configure(self._options or HttpOptions())
        self.forget()
        self.server.stop()

    # -- the kit's contract --------------------------------------------------------------------

    def seed(self, data: ConformanceData) -> None:
        """Each customer, then each invoice booked; the fake computes an invoice's gross from
        its net and VAT, and an invoice whose gross it does not hold stops the seeding."""
        for customer in data.customers:
            self.seed_customer(customer, data.currency)
        for invoice in data.invoices:
            number, gross = self.seed_invoice(invoice)
            if gross != invoice.gross_amount:
                raise ValueError(
                    f"invoice {invoice.invoice_number}: gross {invoice.gross_amount} is not"
                    f" net + VAT ({gross}); {self.system} cannot hold it"
                )
            self.seeded.add(number)

    def seed_customer(self, customer: Customer, currency: str) -> None:
        """Make the fake hold ``customer`` (the client's ``currency``)."""
        raise NotImplementedError(f"{type(self).__name__}.seed_customer() is not implemented")

    def seed_invoice(self, invoice: Invoice) -> tuple[int, Decimal]:
        """Book ``invoice`` in the fake, with what is still outstanding; its number and the
        gross the fake holds."""
        raise NotImplementedError(f"{type(self).__name__}.seed_invoice() is not implemented")

    def requests_made(self) -> int:
        with self.fake.lock:
            return len(self.fake.requests)

    def fault(self, kind: FaultKind) -> AbstractContextManager[dict[str, str]]:
        """``auth``: credentials the fake does not know (401); the others: every request
        answered with the fault until the context closes."""
        return self._fault(kind)

    @contextmanager
    def _fault(self, kind: FaultKind) -> Iterator[dict[str, str]]:
        settings = self.settings()
        if kind == "auth":
            settings[self.refused_setting] = f"{self.refused_prefix}-{secrets.token_hex(8)}"
            yield settings
            return
        self._queue_fault(self._faults[kind])
        try:
            yield settings
        finally:
            self.fake.clear_faults()
