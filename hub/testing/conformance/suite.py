"""The conformance suite: :class:`PluginConformance`, a pytest base class for plugin tests.

Subclass it in your plugin's tests, name the plugin, and give a ``backend`` fixture::

    class TestAcmeConformance(PluginConformance):
        plugin = "acme"

        @pytest.fixture
        def backend(self) -> Iterator[ConformanceBackend]:
            with FakeAcme() as fake:
                yield AcmeBackend(fake)

The suite tests what the plugin declares and only that: the reads of an accounting plugin,
one write test per declared capability, ``deliver_message`` of a delivery plugin; the settings
schema, error mapping and secrets for every plugin. It calls the hooks the way the core does
(through :class:`hub.plugins.ClientPlugin`, with a context built from the backend's settings
like the core builds one), so what passes here behaves in the hub. Every failure says what the
plugin did and what to change.

A test that cannot apply (a plugin that reads local files has no credentials to refuse) is
opted out in ``opt_out`` with a written reason, shown in the test report.
"""

from __future__ import annotations

import functools
import logging
import random
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, NoReturn, TypeVar

import pytest
import structlog
import structlog.testing

from hub import clients
from hub.errors import (
    AuthError,
    HubError,
    InvalidDataError,
    RemoteServerError,
    SettingsError,
    ThrottledError,
)
from hub.logging import get_logger
from hub.model import (
    ClientContext,
    Invoice,
    InvoiceState,
    PluginSettings,
    SystemInfo,
)
from hub.plugins import ENTRY_POINT_GROUP, ClientPlugin, PluginRegistry, load_plugins
from hub.testing.conformance import data as kit
from hub.testing.conformance import fresh_process
from hub.testing.conformance.backend import ConformanceBackend, Effect, Fault
from hub.testing.conformance.data import ConformanceData

T = TypeVar("T")

CLIENT_NAME = "Conformance Kit ApS"
MIN_REASON_CHARS = 10
_SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CREDENTIAL_NAME = re.compile(r"token|secret|password|passwd|api_?key|credential", re.I)
_SHOWN_DIFFERENCES = 5

#: Hints for the errors the core raises at the boundary: what the plugin should change.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "must be a Decimal",
        "parse amounts from the system's text as decimal.Decimal (for JSON:"
        " json.loads(text, parse_float=Decimal)); a float cannot hold øre exactly",
    ),
    (
        "must be a datetime.date",
        "give dates as datetime.date (date.fromisoformat); a datetime or a string is not a date",
    ),
    ("ISO 4217", "give every amount its currency as a three-letter ISO 4217 code"),
    ("is not net", "gross must be net + VAT to the øre; take all three from the system"),
    ("were not asked for", "answer only for the numbers asked"),
    ("more than once", "answer each number once"),
    (
        "gave no status",
        "answer every number asked; one the system does not know is InvoiceState.UNKNOWN",
    ),
    (
        "failed: ",
        "an exception that is not one of hub.errors is a plugin bug: map failures to"
        " AuthError, ThrottledError, RemoteServerError, RemoteRequestError or InvalidDataError",
    ),
)

#: The kit's tests, by name: what ``opt_out`` may name.
TEST_NAMES: frozenset[str] = frozenset()  # filled in below the class


def _fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


def _hint(exc: BaseException) -> str:
    text = str(exc)
    hints = [hint for fragment, hint in _HINTS if fragment in text]
    return f" To fix: {hints[0]}." if hints else ""


def _call(what: str, action: Callable[[], T]) -> T:
    """Run a hook call against a healthy backend; any error fails the test, with a hint."""
    try:
        return action()
    except HubError as exc:
        _fail(f"{what} failed against a healthy backend: {type(exc).__name__}: {exc}.{_hint(exc)}")


def _cents(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def _invoice_differences(expected: Invoice, got: Invoice) -> list[str]:
    fields = (
        "customer_number",
        "invoice_date",
        "due_date",
        "currency",
        "net_amount",
        "vat_amount",
        "gross_amount",
        "outstanding_amount",
    )
    differences = []
    for name in fields:
        want, have = getattr(expected, name), getattr(got, name)
        if want != have:
            differences.append(
                f"invoice {expected.invoice_number}: {name} is {have!r}, not {want!r}"
            )
        elif isinstance(have, Decimal) and not _cents(have):
            differences.append(
                f"invoice {expected.invoice_number}: {name} {have!r} has more than two decimals"
                " (the hub stores øre; give the amount as the system has it, to the øre)"
            )
    return differences


def _some(items: list[str]) -> str:
    shown = "; ".join(items[:_SHOWN_DIFFERENCES])
    more = len(items) - _SHOWN_DIFFERENCES
    return shown + (f"; and {more} more" if more > 0 else "")


def _secret_values(info: SystemInfo, settings: Mapping[str, str]) -> dict[str, str]:
    """The secret settings' values worth looking for (a value of 1-3 characters would be
    found everywhere by chance)."""
    return {
        name: value
        for name, value in settings.items()
        if name in info.secret_names and len(value) >= 4
    }


def _mask(text: str, secrets: Mapping[str, str]) -> str:
    for name, value in secrets.items():
        text = text.replace(value, f"<secret {name}>")
    return text


class _LogWatch(logging.Handler):
    """Every standard-library log record, formatted, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = f"{record.msg!r} {record.args!r}"
        self.lines.append(f"{record.name}: {text} {record.__dict__!r}")


class PluginConformance:
    """Base class of a plugin's conformance tests. See the module docstring.

    Override the ``backend`` fixture; set :attr:`plugin`; list opt-outs with reasons in
    :attr:`opt_out`. Override ``entry_point`` only to test a plugin that is importable but not
    installed (the kit's own tests do).
    """

    #: The plugin's entry point name.
    plugin: ClassVar[str] = ""
    #: Tests this plugin opts out of, each with the reason: ``{"test_name": "why"}``.
    opt_out: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        problems = []
        for name, reason in cls.opt_out.items():
            if name not in TEST_NAMES:
                problems.append(f"{name!r} is not a test of the kit (tests: {sorted(TEST_NAMES)})")
            elif not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
                problems.append(
                    f"{name!r} needs a written reason (at least {MIN_REASON_CHARS} characters),"
                    f" not {reason!r}"
                )
        if problems:
            raise TypeError(f"{cls.__name__}.opt_out: " + "; ".join(problems))

    # -- fixtures an integrator gives ------------------------------------------------------

    @pytest.fixture
    def backend(self) -> ConformanceBackend:
        """The system behind the plugin. Override it: return your ConformanceBackend."""
        raise NotImplementedError(
            f"{type(self).__name__} has no `backend` fixture: define one returning a"
            " hub.testing.conformance.ConformanceBackend for your fake or sandbox"
        )

    @pytest.fixture
    def entry_point(self) -> EntryPoint:
        """The plugin's installed entry point (group ``receivables_hub``)."""
        if not self.plugin:
            raise TypeError(f"{type(self).__name__}.plugin is not set: name the plugin")
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == self.plugin]
        if not found:
            _fail(
                f"no plugin {self.plugin!r} is installed: declare the entry point"
                f' `{self.plugin} = "your_package.plugin"` under'
                f" [project.entry-points.{ENTRY_POINT_GROUP}] and `pip install -e .`"
            )
        return found[0]

    # -- fixtures the kit gives ------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _opted_out(self, request: pytest.FixtureRequest) -> None:
        name = getattr(request.node, "originalname", request.node.name)
        reason = self.opt_out.get(name)
        if reason:
            pytest.skip(f"opted out: {reason}")

    @pytest.fixture
    def registry(self, entry_point: EntryPoint) -> PluginRegistry:
        """The plugin loaded from its entry point, as the hub loads it."""
        registry = load_plugins(entry_points=[entry_point])
        if entry_point.name not in registry.infos:
            _fail(
                f"the hub refused plugin {entry_point.name!r}:"
                f" {registry.errors.get(entry_point.name, 'not loaded')}"
            )
        return registry

    @pytest.fixture
    def info(self, registry: PluginRegistry, entry_point: EntryPoint) -> SystemInfo:
        return registry.infos[entry_point.name]

    @pytest.fixture
    def data(self, backend: ConformanceBackend) -> ConformanceData:
        """The kit's records: more than two pages of open invoices (and paid ones besides),
        three customers."""
        return kit.make_data(
            today=backend.today, currency=backend.currency, open_count=2 * backend.page_size + 5
        )

    @pytest.fixture
    def client_context(self, backend: ConformanceBackend, info: SystemInfo) -> ClientContext:
        """A context for the backend's settings, built as the core builds one."""
        return self.context(backend, info, backend.settings())

    @pytest.fixture
    def client_plugin(
        self, registry: PluginRegistry, client_context: ClientContext
    ) -> ClientPlugin:
        """The plugin as the core calls it: one client's plugin, answers checked."""
        return registry.for_client(client_context)

    @pytest.fixture
    def seeded(
        self, backend: ConformanceBackend, info: SystemInfo, data: ConformanceData
    ) -> ConformanceData:
        """``data``, held by the backend. Skips for a plugin that is not an accounting one."""
        if info.kind != "accounting":
            pytest.skip(f"{info.name} is a {info.kind} plugin: the accounting tests do not apply")
        try:
            backend.seed(data)
        except NotImplementedError as exc:
            _fail(f"{exc}: implement ConformanceBackend.seed for your backend")
        return data

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def context(
        backend: ConformanceBackend, info: SystemInfo, settings: Mapping[str, str]
    ) -> ClientContext:
        """A client context for ``settings``: checked against the plugin's schema, defaults
        filled in, secrets masked in its repr, as :func:`hub.clients.client_context` does."""
        try:
            values = clients.with_defaults(info, clients.validate_settings(info, settings))
            clients.require_settings(info, values, CLIENT_NAME, "the backend's settings()")
        except SettingsError as exc:
            _fail(f"the backend's settings do not fit the plugin's settings schema: {exc}")
        return ClientContext(
            client_id=1,
            client_name=CLIENT_NAME,
            plugin=info.name,
            country=backend.country,
            currency=backend.currency,
            timezone=backend.timezone,
            today=backend.today,
            settings=PluginSettings(values, info.secret_names),
            log=get_logger("hub.plugin", client=CLIENT_NAME, plugin=info.name),
        )

    @staticmethod
    def _needs(info: SystemInfo, capability: str) -> None:
        if capability not in info.capabilities:
            pytest.skip(f"{info.name} does not declare the capability {capability!r}")

    @staticmethod
    def _effects(backend: ConformanceBackend, effect: Effect) -> set[str]:
        try:
            return set(backend.effects(effect))
        except NotImplementedError as exc:
            _fail(f"{exc}: implement ConformanceBackend.effects for your backend")

    # -- the plugin itself -----------------------------------------------------------------

    def test_plugin_loads_from_its_entry_point(
        self, registry: PluginRegistry, info: SystemInfo, entry_point: EntryPoint
    ) -> None:
        """Installed, loadable, named as its entry point, and ``system_info`` is stable."""
        again = registry.pm.hook.system_info()
        if again != [info]:
            _fail(
                "system_info() answers differently on a second call; it must describe the"
                " plugin, not a state (and make no network calls)"
            )
        if not info.version.strip() or not info.title.strip():
            _fail("system_info() needs a title and a version: `hub plugins list` shows them")

    def test_settings_schema_is_sound(self, backend: ConformanceBackend, info: SystemInfo) -> None:
        """Every setting is one a user can type, understand and keep safe."""
        problems = []
        for spec in info.settings:
            what = f"setting {spec.name!r}"
            if not _SETTING_NAME.match(spec.name):
                problems.append(
                    f"{what}: name it in lowercase words joined by _ (users type it after --set)"
                )
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
                        f"{what}: required and with a default, it can never be missing;"
                        " drop one of the two"
                    )
                try:
                    spec.parse(spec.default)
                except ValueError as exc:
                    problems.append(f"{what}: its default {spec.default!r} {exc}")
            if _CREDENTIAL_NAME.search(spec.name) and not spec.secret:
                problems.append(
                    f"{what}: its name says it is a credential; declare it secret=True so it is"
                    " encrypted at rest and masked in output and logs"
                )
        if problems:
            _fail("the settings schema in system_info() has problems: " + "; ".join(problems))
        self.context(backend, info, backend.settings())  # fails if they do not fit

    # -- reads -----------------------------------------------------------------------------

    def test_open_invoices_are_exactly_the_open_ones(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Every open invoice, once, with exactly the amounts, dates and currency held."""
        got = _call("fetch_open_invoices()", client_plugin.fetch_open_invoices)
        expected = {i.invoice_number: i for i in seeded.open_invoices}
        paid = {i.invoice_number for i in seeded.paid_invoices}
        numbers = [i.invoice_number for i in got]
        problems = []
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        if twice:
            problems.append(f"invoices listed more than once: {_some(twice)}")
        listed_paid = sorted(set(numbers) & paid)
        if listed_paid:
            problems.append(
                f"paid invoices (nothing outstanding) listed as open: {_some(listed_paid)}"
            )
        unexpected = sorted(set(numbers) - set(expected) - paid)
        if unexpected:
            problems.append(f"invoices the backend does not hold: {_some(unexpected)}")
        missing = sorted(set(expected) - set(numbers))
        if missing:
            problems.append(f"{len(missing)} open invoices missing: {_some(missing)}")
        differences = [
            difference
            for invoice in got
            if invoice.invoice_number in expected
            for difference in _invoice_differences(expected[invoice.invoice_number], invoice)
        ]
        if differences:
            problems.append("values differ from what the system holds: " + _some(differences))
        if problems:
            _fail("fetch_open_invoices(): " + ". ".join(problems))

    def test_open_invoices_cover_every_page(
        self, backend: ConformanceBackend, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """More than two pages of open invoices come back whole."""
        got = _call("fetch_open_invoices()", client_plugin.fetch_open_invoices)
        wanted = len(seeded.open_invoices)
        if len({i.invoice_number for i in got}) < wanted:
            _fail(
                f"fetch_open_invoices() returned {len(got)} invoices; the system holds {wanted}"
                f" open ones, more than two pages of {backend.page_size}: follow every page"
                " (and never return a partial list: raise instead)"
            )

    def test_invoice_status_answers_every_number(
        self, backend: ConformanceBackend, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """One status per number, in one batch larger than a page: open, partly paid, paid
        and unknown numbers mixed, in no particular order."""
        by_number = {i.invoice_number: i for i in seeded.invoices}
        asked = [*by_number, *seeded.unknown_invoice_numbers]
        random.Random(8).shuffle(asked)
        statuses = _call(
            f"fetch_invoice_status() for {len(asked)} numbers",
            lambda: client_plugin.fetch_invoice_status(asked),
        )
        problems = []
        for status in statuses:
            invoice = by_number.get(status.invoice_number)
            if invoice is None:
                if status.state is not InvoiceState.UNKNOWN:
                    problems.append(
                        f"{status.invoice_number} (not in the system) is {status.state.value},"
                        " not unknown"
                    )
                continue
            if invoice.outstanding_amount > 0:
                want_states = {InvoiceState.OPEN}
            else:
                want_states = {InvoiceState.PAID, InvoiceState.CREDITED}
            if status.state not in want_states:
                problems.append(
                    f"{status.invoice_number} is {status.state.value}, not"
                    f" {'/'.join(sorted(s.value for s in want_states))} (outstanding"
                    f" {invoice.outstanding_amount})"
                )
            elif status.outstanding_amount != invoice.outstanding_amount:
                problems.append(
                    f"{status.invoice_number}: outstanding {status.outstanding_amount!r},"
                    f" not {invoice.outstanding_amount!r}"
                )
            elif status.currency != invoice.currency:
                problems.append(
                    f"{status.invoice_number}: currency {status.currency!r},"
                    f" not {invoice.currency!r}"
                )
        if problems:
            _fail("fetch_invoice_status(): " + _some(problems))

    def test_unknown_invoice_numbers_are_unknown(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """A number the system does not know is UNKNOWN: never an error, never left out,
        never "paid" (the core would close a case for it)."""
        asked = list(seeded.unknown_invoice_numbers)
        statuses = _call(
            "fetch_invoice_status() for unknown numbers",
            lambda: client_plugin.fetch_invoice_status(asked),
        )
        wrong = [
            f"{s.invoice_number} is {s.state.value}"
            for s in statuses
            if s.state is not InvoiceState.UNKNOWN
        ]
        if wrong:
            _fail(
                "fetch_invoice_status(): numbers the system does not know must be"
                f" InvoiceState.UNKNOWN with no amount: {_some(wrong)}"
            )

    def test_customers_known_are_returned_unknown_left_out(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Each known customer once, with its name and e-mail as held; unknown ones left out."""
        expected = {c.customer_number: c for c in seeded.customers}
        asked = [*expected, *seeded.unknown_customer_numbers]
        got = _call("fetch_customers()", lambda: client_plugin.fetch_customers(asked))
        problems = []
        missing = sorted(set(expected) - {c.customer_number for c in got})
        if missing:
            problems.append(f"customers missing: {', '.join(missing)}")
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
        if problems:
            _fail("fetch_customers(): " + _some(problems))

    def test_customer_balances_sum_what_is_outstanding(
        self, info: SystemInfo, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Capability ``customer_balance``: each known customer's balance, to the øre."""
        self._needs(info, "customer_balance")
        expected = seeded.balances()
        asked = [*expected, *seeded.unknown_customer_numbers]
        got = _call("fetch_customer_balance()", lambda: client_plugin.fetch_customer_balance(asked))
        problems = []
        answered = {b.customer_number: b for b in got}
        for number, balance in expected.items():
            answer = answered.get(number)
            if answer is None:
                problems.append(f"no balance for customer {number}")
            elif answer.balance != balance or answer.currency != seeded.currency:
                problems.append(
                    f"customer {number}: {answer.balance} {answer.currency},"
                    f" not {balance} {seeded.currency}"
                )
        unknown = sorted(set(answered) & set(seeded.unknown_customer_numbers))
        if unknown:
            problems.append(f"a balance for unknown customer(s) {', '.join(unknown)}")
        if problems:
            _fail("fetch_customer_balance(): " + _some(problems))

    def test_reads_are_repeatable(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Reads change nothing: asked twice, the same answers."""
        numbers = [i.invoice_number for i in seeded.invoices[:5]]
        first: tuple[Sequence[object], ...] = (
            _call("fetch_open_invoices()", client_plugin.fetch_open_invoices),
            _call("fetch_invoice_status()", lambda: client_plugin.fetch_invoice_status(numbers)),
        )
        second: tuple[Sequence[object], ...] = (
            _call("fetch_open_invoices()", client_plugin.fetch_open_invoices),
            _call("fetch_invoice_status()", lambda: client_plugin.fetch_invoice_status(numbers)),
        )
        for before, after, hook in zip(
            first, second, ("fetch_open_invoices", "fetch_invoice_status"), strict=True
        ):
            if sorted(map(repr, before)) != sorted(map(repr, after)):
                _fail(f"{hook}() answered differently when asked again with nothing changed")

    # -- writes ----------------------------------------------------------------------------

    def _once_per_key(
        self,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        effect: Effect,
        hook: str,
        make: Callable[[str, int], object],
    ) -> None:
        """Write with one key three times (here, in a fresh process, here again): one
        effect, one reference; then with another key: a second effect, another reference."""
        what = effect.replace("_", " ")
        write = getattr(client_plugin, hook)
        before = self._effects(backend, effect)
        request = make(kit.new_key(effect), 0)
        first = _call(f"{hook}()", lambda: write(request))
        after_first = self._effects(backend, effect)
        made = after_first - before
        if len(made) != 1:
            _fail(
                f"{hook}() made {len(made)} {what}(s) in the system for one call, not 1"
                f" (the backend reports {sorted(made)})"
            )
        answer = fresh_process.call(entry_point, client_plugin.ctx, hook, request)
        if answer.reference is None:
            secrets = _secret_values(client_plugin.info, client_plugin.ctx.settings)
            _fail(
                f"{hook}() repeated with the same idempotency_key in a fresh process (as after"
                f" a restart) failed: {answer.error_type}: {_mask(answer.error or '', secrets)}."
                " A repeat must return the first reference, not an error."
                f" Its stderr ends: {_mask(answer.stderr[-800:], secrets)}"
            )
        third = _call(f"{hook}() repeated", lambda: write(request))
        after_repeats = self._effects(backend, effect)
        if after_repeats != after_first:
            extra = len(after_repeats - after_first)
            _fail(
                f"{hook}() called again with the same idempotency_key made {extra} more"
                f" {what}(s): honour the key across processes: look it up in the system before"
                " writing, or use the system's own idempotency support (an Idempotency-Key"
                " header), so a repeat after a crash writes nothing"
            )
        if not first == answer.reference == third:
            _fail(
                f"{hook}() with the same idempotency_key returned {first!r}, then"
                f" {answer.reference!r} (fresh process), then {third!r}: a repeat must return"
                " the first call's reference, the core stores it"
            )
        other = make(kit.new_key(effect), 1)
        second = _call(f"{hook}() with another key", lambda: write(other))
        made = self._effects(backend, effect) - after_repeats
        if len(made) != 1 or second == first:
            _fail(
                f"{hook}() with a new idempotency_key made {len(made)} {what}(s) and returned"
                f" {second!r} (the first key's reference was {first!r}): a new key is a new"
                f" {what}, with a reference of its own"
            )

    def test_credit_note_once_per_key(
        self,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        seeded: ConformanceData,
    ) -> None:
        """Capability ``credit_note``: one credit note per idempotency key, across processes."""
        self._needs(info, "credit_note")
        self._once_per_key(
            backend,
            client_plugin,
            entry_point,
            "credit_note",
            "create_credit_note",
            lambda key, n: kit.credit_note_request(seeded, key, seeded.open_invoices[n]),
        )

    def test_journal_voucher_once_per_key(
        self,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        seeded: ConformanceData,
    ) -> None:
        """Capability ``journal``: one voucher per idempotency key, across processes."""
        self._needs(info, "journal")
        loss, vat = backend.journal_accounts
        self._once_per_key(
            backend,
            client_plugin,
            entry_point,
            "voucher",
            "post_journal_lines",
            lambda key, n: kit.journal_entry(seeded, key, seeded.open_invoices[-1 - n], loss, vat),
        )

    def test_invoice_once_per_key(
        self,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        seeded: ConformanceData,
    ) -> None:
        """Capability ``create_invoice``: one invoice per idempotency key, across processes."""
        self._needs(info, "create_invoice")
        self._once_per_key(
            backend,
            client_plugin,
            entry_point,
            "invoice",
            "create_invoice",
            lambda key, _: kit.invoice_draft(seeded, key, "invoice", backend.vat_code),
        )

    def test_order_once_per_key(
        self,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        seeded: ConformanceData,
    ) -> None:
        """Capability ``create_order``: one order per idempotency key, across processes."""
        self._needs(info, "create_order")
        self._once_per_key(
            backend,
            client_plugin,
            entry_point,
            "order",
            "create_invoice",
            lambda key, _: kit.invoice_draft(seeded, key, "order", backend.vat_code),
        )

    def test_message_once_per_key(
        self,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
    ) -> None:
        """Capability ``deliver``: one message per idempotency key, across processes."""
        self._needs(info, "deliver")
        self._once_per_key(
            backend,
            client_plugin,
            entry_point,
            "message",
            "deliver_message",
            lambda key, _: kit.outgoing_message(key, backend.recipient_email),
        )

    # -- errors ----------------------------------------------------------------------------

    def _probe(self, plugin: ClientPlugin, backend: ConformanceBackend) -> object:
        """The call each fault is tried on: the first read of a sync, or a delivery."""
        if plugin.info.kind == "delivery":
            message = kit.outgoing_message(kit.new_key("message"), backend.recipient_email)
            return plugin.deliver_message(message)
        return plugin.fetch_open_invoices()

    def _fault_maps_to(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
        fault: Fault,
        expected: type[HubError],
        cause: str,
    ) -> HubError:
        if info.kind == "accounting":
            request.getfixturevalue("seeded")
        try:
            failing = backend.fault(fault)
        except NotImplementedError as exc:
            _fail(
                f"{exc}: implement it in your backend (see ConformanceBackend.fault), or opt"
                " out of this test with the reason it cannot apply"
            )
        with failing as settings:
            plugin = registry.for_client(self.context(backend, info, settings))
            try:
                self._probe(plugin, backend)
            except HubError as exc:
                secrets = _secret_values(info, settings) | _secret_values(info, backend.settings())
                if not isinstance(exc, expected):
                    _fail(
                        f"{cause} raised {type(exc).__name__}: {_mask(str(exc), secrets)};"
                        f" raise hub.errors.{expected.__name__} (hub.http.make_client maps HTTP"
                        " statuses for you)"
                    )
                leaked = [name for name, value in secrets.items() if value in str(exc)]
                if leaked:
                    _fail(
                        f"the {expected.__name__} for {cause} shows the value of secret"
                        f" setting(s) {', '.join(leaked)}: say which credential, never its value"
                    )
                if getattr(exc, "plugin", None) != info.name:
                    _fail(f"the {expected.__name__} does not name the plugin")
                return exc
        _fail(f"{cause}: the call succeeded; it must raise hub.errors.{expected.__name__}")

    def test_refused_credentials_raise_auth_error(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        """Refused credentials are an ``AuthError`` that names the credential, not its value."""
        self._fault_maps_to(
            request, backend, info, registry, "auth", AuthError, "refused credentials"
        )

    def test_throttling_raises_throttled_error(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        """Throttling beyond what retrying absorbs is a ``ThrottledError``."""
        self._fault_maps_to(
            request, backend, info, registry, "throttle", ThrottledError, "throttling (429)"
        )

    def test_server_errors_raise_remote_server_error(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        """A system that keeps failing is a ``RemoteServerError``, after retries."""
        self._fault_maps_to(
            request, backend, info, registry, "server_error", RemoteServerError, "server errors"
        )

    def test_malformed_answers_raise_invalid_data_error(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        """An answer the plugin cannot read is an ``InvalidDataError`` saying where, never a
        skipped record (the hub would take the invoice for paid)."""
        self._fault_maps_to(
            request,
            backend,
            info,
            registry,
            "malformed",
            InvalidDataError,
            "a malformed answer",
        )

    # -- secrets ---------------------------------------------------------------------------

    def test_secrets_never_appear_in_logs_or_errors(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Every call the plugin offers, logged at every level: no secret value anywhere."""
        settings = backend.settings()
        secrets = _secret_values(info, settings)
        if not secrets:
            pytest.skip(f"{info.name} declares no secret settings (or the backend sets none)")
        seeded = request.getfixturevalue("seeded") if info.kind == "accounting" else None
        texts: list[tuple[str, str]] = []
        watch = _LogWatch()
        root = logging.getLogger()
        levels = {
            name: logger.level
            for name, logger in logging.root.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)
        }
        root_level = root.level
        root.addHandler(watch)
        root.setLevel(logging.DEBUG)
        for name in levels:
            logging.getLogger(name).setLevel(logging.NOTSET)
        try:
            with structlog.testing.capture_logs() as events:
                plugin = registry.for_client(self.context(backend, info, settings))
                texts.append(("repr(ctx)", repr(plugin.ctx)))
                for what, action in self._every_call(plugin, backend, seeded):
                    try:
                        action()
                    except HubError as exc:
                        texts.append((f"the error of {what}", f"{exc!r} {exc}"))
                texts += self._auth_failure_texts(backend, info, registry)
        finally:
            root.removeHandler(watch)
            root.setLevel(root_level)
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
        texts += [(f"log event {e.get('event')!r}", repr(e)) for e in events]
        texts += [("a standard-library log record", line) for line in watch.lines]
        out, err = capsys.readouterr()
        texts += [("standard output", out), ("standard error", err)]
        found = sorted(
            {
                f"the value of {name!r} in {where}"
                for where, text in texts
                for name, value in secrets.items()
                if value in text
            }
        )
        if found:
            _fail("a secret leaked: " + _some(found) + ". Log which credential, never its value.")

    def _every_call(
        self,
        plugin: ClientPlugin,
        backend: ConformanceBackend,
        seeded: ConformanceData | None,
    ) -> list[tuple[str, Callable[[], object]]]:
        """Each hook the plugin offers, once, as (what, call)."""
        calls: list[tuple[str, Callable[[], object]]] = []
        if seeded is not None:
            numbers = [i.invoice_number for i in seeded.invoices[:3]]
            customers = [c.customer_number for c in seeded.customers]
            invoice = seeded.open_invoices[2]
            calls += [
                ("fetch_open_invoices()", plugin.fetch_open_invoices),
                ("fetch_invoice_status()", functools.partial(plugin.fetch_invoice_status, numbers)),
                ("fetch_customers()", functools.partial(plugin.fetch_customers, customers)),
            ]
            if plugin.has("customer_balance"):
                calls.append(
                    (
                        "fetch_customer_balance()",
                        functools.partial(plugin.fetch_customer_balance, customers),
                    )
                )
            if plugin.has("credit_note"):
                request = kit.credit_note_request(seeded, kit.new_key("credit_note"), invoice)
                calls.append(
                    ("create_credit_note()", functools.partial(plugin.create_credit_note, request))
                )
            if plugin.has("journal"):
                loss, vat = backend.journal_accounts
                entry = kit.journal_entry(seeded, kit.new_key("voucher"), invoice, loss, vat)
                calls.append(
                    ("post_journal_lines()", functools.partial(plugin.post_journal_lines, entry))
                )
            for kind in ("invoice", "order"):
                if plugin.has(f"create_{kind}"):
                    draft = kit.invoice_draft(seeded, kit.new_key(kind), kind, backend.vat_code)
                    calls.append(
                        (f"create_invoice({kind})", functools.partial(plugin.create_invoice, draft))
                    )
        if plugin.has("deliver"):
            message = kit.outgoing_message(kit.new_key("message"), backend.recipient_email)
            calls.append(("deliver_message()", functools.partial(plugin.deliver_message, message)))
        return calls

    def _auth_failure_texts(
        self, backend: ConformanceBackend, info: SystemInfo, registry: PluginRegistry
    ) -> list[tuple[str, str]]:
        """The refused-credentials path too, where the backend can produce it: that is where
        a plugin is most tempted to show the token it sent."""
        try:
            failing = backend.fault("auth")
        except NotImplementedError:
            return []
        with failing as settings:
            plugin = registry.for_client(self.context(backend, info, settings))
            try:
                self._probe(plugin, backend)
            except HubError as exc:
                return [("the error for refused credentials", f"{exc!r} {exc}")]
        return []


TEST_NAMES = frozenset(name for name in vars(PluginConformance) if name.startswith("test_"))
