"""The conformance suite: :class:`PluginConformance`, a pytest base class for plugin tests.

Subclass it in your plugin's tests, name the plugin, and give a ``backend`` fixture::

    class TestAcmeConformance(PluginConformance):
        plugin = "acme"

        @pytest.fixture
        def backend(self) -> Iterator[ConformanceBackend]:
            with FakeAcme() as fake:
                yield AcmeBackend(fake)

or, when the backend is a context manager made with no arguments (it starts the fake and stops
it), name its class instead: ``backend_class = AcmeBackend``.

The suite tests what the plugin declares and only that: the reads of an accounting plugin,
one write test per declared capability, ``deliver_message`` of a delivery plugin; the settings
schema, error mapping and secrets for every plugin. It calls the hooks the way the core does
(through :class:`hub.plugins.ClientPlugin`, with a context built from the backend's settings
as the core builds one), so what passes here behaves in the hub. Every failure says what the
plugin did and what to change, and never shows a secret's value.

Throughout every test of the kit, everything logged (at every level, structlog and the
standard library), written to stdout or stderr, raised, or written by the fresh process of
the write tests is searched for the secret settings' values; a leak fails the test.

A test that cannot apply (a plugin that reads local files has no credentials to refuse) is
opted out in ``opt_out`` with a written reason, shown in the test report. A kit test cannot be
redefined or removed in a subclass: that would drop it without a reason.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, NoReturn, TypeVar

import pytest

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
from hub.model import Capability, ClientContext, SystemInfo
from hub.plugins import ENTRY_POINT_GROUP, ClientPlugin, PluginRegistry, load_plugins
from hub.testing.conformance import checks, fresh_process, leaks
from hub.testing.conformance import data as kit
from hub.testing.conformance.backend import ConformanceBackend, Effect, Fault
from hub.testing.conformance.data import ConformanceData
from hub.testing.conformance.leaks import LeakWatch
from hub.testing.contexts import plugin_context

T = TypeVar("T")
Call = tuple[str, Callable[[], object]]
ReadCall = tuple[str, Callable[[], Sequence[object]]]

CLIENT_NAME = "Conformance Kit ApS"
#: A batched read asks for at least this many numbers a request, on average.
BATCH_FACTOR = 10
MIN_REASON_CHARS = 10

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

#: The kit's tests, by name: what ``opt_out`` may name (filled in below the class).
TEST_NAMES: frozenset[str] = frozenset()


def _fail(message: str) -> NoReturn:
    """Fail the test with ``message``, secrets masked, without the exception being handled
    (whose text may hold what the message masks)."""
    raise pytest.fail.Exception(leaks.mask(message), pytrace=False) from None


def _hint(exc: BaseException) -> str:
    hints = [hint for fragment, hint in _HINTS if fragment in str(exc)]
    return f" To fix: {hints[0]}." if hints else ""


def _call(what: str, action: Callable[[], T]) -> T:
    """Run a hook call against a healthy backend; any hub error fails the test, with a hint."""
    try:
        return action()
    except HubError as exc:
        message = f"{what} failed against a healthy backend: {type(exc).__name__}: {exc}."
        message += _hint(exc)
    _fail(message)


def _check(message: str, problems: Sequence[str]) -> None:
    """Fail with ``message`` and some of ``problems``, if there are any."""
    if problems:
        _fail(message + checks.some(problems))


def _effects(backend: ConformanceBackend, effect: Effect) -> dict[str, str]:
    """The backend's documents of ``effect`` as {identity: fingerprint} ("" when it gives
    identities only)."""
    try:
        found = backend.effects(effect)
    except NotImplementedError as exc:
        message = f"{exc}: implement ConformanceBackend.effects for your backend"
    else:
        if isinstance(found, Mapping):
            return {str(k): str(v) for k, v in found.items()}
        return dict.fromkeys(map(str, found), "")
    _fail(message)


Maker = Callable[[str, int], object]


def _credit_note(data: ConformanceData, backend: ConformanceBackend) -> Maker:
    return lambda key, n: kit.credit_note_request(data, key, data.open_invoices[n])


def _loss_voucher(data: ConformanceData, backend: ConformanceBackend) -> Maker:
    loss, vat = backend.journal_accounts
    return lambda key, n: kit.journal_entry(data, key, data.open_invoices[-1 - n], loss, vat)


def _draft(kind: str) -> Callable[[ConformanceData, ConformanceBackend], Maker]:
    def make(data: ConformanceData, backend: ConformanceBackend) -> Maker:
        return lambda key, _: kit.invoice_draft(data, key, kind, backend.vat_code)

    return make


def _message(data: ConformanceData, backend: ConformanceBackend) -> Maker:
    return lambda key, _: kit.outgoing_message(key, backend.recipient_email)


def _once_per_key_test(
    capability: Capability,
    effect: Effect,
    hook: str,
    make: Callable[[ConformanceData, ConformanceBackend], Maker],
) -> Callable[..., None]:
    """The kit's test that ``hook`` (of ``capability``) makes one ``effect`` per idempotency
    key: ``make(data, backend)`` gives the request for a key and a number (0, then 1)."""

    def test(
        self: PluginConformance,
        request: pytest.FixtureRequest,
        info: SystemInfo,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
    ) -> None:
        self._needs(info, capability)
        # A message needs no records held: only the accounting writes need the seeded ones.
        data = request.getfixturevalue("data" if effect == "message" else "seeded")
        self._once_per_key(backend, client_plugin, entry_point, effect, hook, make(data, backend))

    test.__doc__ = (
        f"Capability ``{capability.value}``: one {effect.replace('_', ' ')} per idempotency key,"
        " across processes."
    )
    return test


def _fault_test(fault: Fault, expected: type[HubError], doc: str) -> Callable[..., None]:
    """The kit's test that under ``fault`` every hook the plugin offers raises ``expected``."""

    def test(
        self: PluginConformance,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        self._fault_maps_to(request, backend, info, registry, fault, expected)

    test.__doc__ = doc
    return test


class PluginConformance:
    """Base class of a plugin's conformance tests. See the module docstring.

    Set :attr:`backend_class` or override the ``backend`` fixture; set :attr:`plugin`; list
    opt-outs with reasons in
    :attr:`opt_out`. Override ``entry_point`` only to test a plugin that is importable but not
    installed (the kit's own tests do).
    """

    #: The plugin's entry point name.
    plugin: ClassVar[str] = ""
    #: Tests this plugin opts out of, each with the reason: ``{"test_name": "why"}``.
    opt_out: ClassVar[Mapping[str, str]] = {}
    #: The backend's class, a context manager made with no arguments (entered for each test,
    #: left after it); None when the subclass overrides the ``backend`` fixture instead.
    backend_class: ClassVar[type[AbstractContextManager[ConformanceBackend]] | None] = None

    _watch: LeakWatch

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        problems = [
            f"{name!r} is redefined; a test of the kit cannot be replaced or removed: opt out"
            " of it in opt_out, with the reason"
            for name in sorted(TEST_NAMES & set(vars(cls)))
        ]
        for name, reason in cls.opt_out.items():
            if name not in TEST_NAMES:
                problems.append(
                    f"opt_out: {name!r} is not a test of the kit (tests: {sorted(TEST_NAMES)})"
                )
            elif not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
                problems.append(
                    f"opt_out: {name!r} needs a written reason (at least {MIN_REASON_CHARS}"
                    " characters),"
                    f" not {reason!r}"
                )
        if problems:
            raise TypeError(f"{cls.__name__}: " + "; ".join(problems))

    # -- fixtures an integrator gives ------------------------------------------------------

    @pytest.fixture
    def backend(self) -> Iterator[ConformanceBackend]:
        """The system behind the plugin: a :attr:`backend_class` entered for the test, or
        override it: return (or yield) your ConformanceBackend."""
        if self.backend_class is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no `backend` fixture: define one returning a"
                " hub.testing.conformance.ConformanceBackend for your fake or sandbox, or set"
                " backend_class"
            )
        with self.backend_class() as backend:
            yield backend

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
        """The plugin loaded from its entry point, as the hub loads it (the operator's
        ``HUB_LOAD_PLUGINS``/``HUB_BLOCK_PLUGINS`` do not apply: this plugin is under test)."""
        registry = load_plugins(entry_points=[entry_point], honour_environment=False)
        if entry_point.name not in registry.infos:
            _fail(
                f"the hub refused plugin {entry_point.name!r}:"
                f" {registry.errors.get(entry_point.name, 'not loaded')}"
            )
        return registry

    @pytest.fixture
    def info(self, registry: PluginRegistry, entry_point: EntryPoint) -> SystemInfo:
        return registry.infos[entry_point.name]

    @pytest.fixture(autouse=True)
    def leak_watch(
        self,
        _opted_out: None,
        backend: ConformanceBackend,
        info: SystemInfo,
        capfd: pytest.CaptureFixture[str],
    ) -> Iterator[LeakWatch]:
        """Watches every test for the secret settings' values; a leak fails the test."""
        settings = backend.settings()
        secrets = leaks.secret_values(info.secret_names, settings)
        others = [value for name, value in settings.items() if name not in secrets]
        self._watch = LeakWatch(secrets, others)
        with self._watch.watching():
            yield self._watch
            out, err = capfd.readouterr()
            self._watch.add("standard output", out)
            self._watch.add("standard error", err)
            found = [] if self._watch.reported else self._watch.leaks()
            if found:
                _fail(
                    f"a secret leaked: {checks.some(found)}. Log and report which credential,"
                    " never its value."
                )

    @pytest.fixture
    def data(self, backend: ConformanceBackend) -> ConformanceData:
        """The kit's records: more than two pages of open invoices (and paid ones besides),
        more than a page of customers."""
        return kit.make_data(
            today=backend.today,
            currency=backend.currency,
            open_count=2 * backend.page_size + 5,
            customer_count=backend.page_size + 3,
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
            message = f"{exc}: implement ConformanceBackend.seed for your backend"
        else:
            return data
        _fail(message)

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
            message = f"the backend's settings do not fit the plugin's settings schema: {exc}"
        else:
            return plugin_context(
                info,
                values,
                today=backend.today,
                client_name=CLIENT_NAME,
                country=backend.country,
                currency=backend.currency,
                timezone=backend.timezone,
                log=get_logger("hub.plugin", client=CLIENT_NAME, plugin=info.name),
            )
        _fail(message)

    @staticmethod
    def _needs(info: SystemInfo, capability: Capability) -> None:
        if capability not in info.capabilities:
            pytest.skip(f"{info.name} does not declare the capability {capability.value!r}")

    @staticmethod
    def _reads(plugin: ClientPlugin, data: ConformanceData) -> list[ReadCall]:
        """Each read hook, asked about everything ``data`` holds (and numbers it does not)."""
        numbers = data.invoice_numbers_to_ask
        customers = data.customer_numbers_to_ask
        reads: list[ReadCall] = [
            ("fetch_open_invoices()", plugin.fetch_open_invoices),
            ("fetch_invoice_status()", functools.partial(plugin.fetch_invoice_status, numbers)),
            ("fetch_customers()", functools.partial(plugin.fetch_customers, customers)),
        ]
        if plugin.has(Capability.CUSTOMER_BALANCE):
            reads.append(
                (
                    "fetch_customer_balance()",
                    functools.partial(plugin.fetch_customer_balance, customers),
                )
            )
        return reads

    @staticmethod
    def _writes(
        plugin: ClientPlugin, backend: ConformanceBackend, data: ConformanceData | None
    ) -> list[Call]:
        """Each write hook the plugin declares, once, with a fresh key."""
        writes: list[Call] = []
        if data is not None:
            invoice = data.open_invoices[2]
            if plugin.has(Capability.CREDIT_NOTE):
                request = kit.credit_note_request(data, kit.new_key("credit_note"), invoice)
                writes.append(
                    ("create_credit_note()", functools.partial(plugin.create_credit_note, request))
                )
            if plugin.has(Capability.JOURNAL):
                loss, vat = backend.journal_accounts
                entry = kit.journal_entry(data, kit.new_key("voucher"), invoice, loss, vat)
                writes.append(
                    ("post_journal_lines()", functools.partial(plugin.post_journal_lines, entry))
                )
            for kind in ("invoice", "order"):
                if plugin.has(Capability(f"create_{kind}")):
                    draft = kit.invoice_draft(data, kit.new_key(kind), kind, backend.vat_code)
                    writes.append(
                        (f"create_invoice({kind})", functools.partial(plugin.create_invoice, draft))
                    )
        if plugin.has(Capability.DELIVER):
            message = kit.outgoing_message(kit.new_key("message"), backend.recipient_email)
            writes.append(("deliver_message()", functools.partial(plugin.deliver_message, message)))
        return writes

    def _every_call(
        self, plugin: ClientPlugin, backend: ConformanceBackend, data: ConformanceData | None
    ) -> list[Call]:
        return [
            *(self._reads(plugin, data) if data is not None else []),
            *self._writes(plugin, backend, data),
        ]

    def _failing(
        self, backend: ConformanceBackend, fault: Fault
    ) -> AbstractContextManager[dict[str, str]]:
        try:
            return backend.fault(fault)
        except NotImplementedError as exc:
            message = (
                f"{exc}: implement it in your backend (see ConformanceBackend.fault), or opt"
                " out of this test with the reason it cannot apply"
            )
        _fail(message)

    # -- the plugin itself -----------------------------------------------------------------

    def test_plugin_loads_from_its_entry_point(
        self, registry: PluginRegistry, info: SystemInfo
    ) -> None:
        """Installed, loadable, named as its entry point, and ``system_info`` is stable."""
        if registry.pm.hook.system_info() != [info]:
            _fail(
                "system_info() answers differently on a second call; it must describe the"
                " plugin, not a state (and make no network calls)"
            )
        if not info.version.strip() or not info.title.strip():
            _fail("system_info() needs a title and a version: `hub plugins list` shows them")

    def test_settings_schema_is_sound(self, backend: ConformanceBackend, info: SystemInfo) -> None:
        """Every setting is one a user can type, understand and keep safe; the backend's
        settings fit the schema."""
        problems = checks.settings_schema_problems(info)
        if problems:
            _fail("the settings schema in system_info() has problems: " + "; ".join(problems))
        self.context(backend, info, backend.settings())

    # -- reads -----------------------------------------------------------------------------

    def test_open_invoices_are_exactly_the_open_ones(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Every open invoice, once, with exactly the amounts, dates and currency held."""
        got = _call("fetch_open_invoices()", client_plugin.fetch_open_invoices)
        problems = checks.open_invoice_problems(got, seeded)
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
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """One status per number, in one batch larger than a page: open, partly paid, paid
        and unknown numbers mixed, in no particular order."""
        asked = list(seeded.invoice_numbers_to_ask)
        random.Random(8).shuffle(asked)
        statuses = _call(
            f"fetch_invoice_status() for {len(asked)} numbers",
            lambda: client_plugin.fetch_invoice_status(asked),
        )
        _check("fetch_invoice_status(): ", checks.status_problems(statuses, seeded))

    def test_unknown_invoice_numbers_are_unknown(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """A number the system does not know is UNKNOWN with no amount: never an error, never
        left out, never "paid" (the core would close a case for it)."""
        asked = list(seeded.unknown_invoice_numbers)
        statuses = _call(
            "fetch_invoice_status() for unknown numbers",
            lambda: client_plugin.fetch_invoice_status(asked),
        )
        _check(
            "fetch_invoice_status(): numbers the system does not know must be"
            " InvoiceState.UNKNOWN with no amount: ",
            checks.status_problems(statuses, seeded),
        )

    def test_customers_known_are_returned_unknown_left_out(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """More than a page of customers, each once with its name and e-mail as held;
        unknown ones left out."""
        asked = seeded.customer_numbers_to_ask
        got = _call("fetch_customers()", lambda: client_plugin.fetch_customers(asked))
        _check("fetch_customers(): ", checks.customer_problems(got, seeded))

    def test_customer_balances_sum_what_is_outstanding(
        self, info: SystemInfo, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Capability ``customer_balance``: each known customer's balance, to the øre."""
        self._needs(info, Capability.CUSTOMER_BALANCE)
        asked = [*seeded.balances(), *seeded.unknown_customer_numbers]
        got = _call("fetch_customer_balance()", lambda: client_plugin.fetch_customer_balance(asked))
        _check("fetch_customer_balance(): ", checks.balance_problems(got, seeded))

    def test_batched_reads_are_batched(
        self, backend: ConformanceBackend, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Statuses, customers and balances of thousands come in a few requests, never one a
        number (where the backend counts requests)."""
        try:
            backend.requests_made()
        except NotImplementedError:
            pytest.skip(
                f"{type(backend).__name__} does not count requests: implement"
                " ConformanceBackend.requests_made() to have batching tested"
            )
        problems = []
        for what, read in self._reads(client_plugin, seeded):
            if what == "fetch_open_invoices()":
                continue
            asked = len(seeded.invoices) if "status" in what else len(seeded.customers)
            before = backend.requests_made()
            _call(what, read)
            made = backend.requests_made() - before
            if made * BATCH_FACTOR > asked:
                problems.append(f"{what} made {made} requests for {asked} numbers")
        if problems:
            _fail(
                "; ".join(problems) + f": ask for many numbers a request (at least"
                f" {BATCH_FACTOR} on average), with the system's filter or a page of them"
            )

    def test_reads_are_repeatable(
        self, client_plugin: ClientPlugin, seeded: ConformanceData
    ) -> None:
        """Reads change nothing: asked twice, the same answers."""
        for what, read in self._reads(client_plugin, seeded):
            first, second = _call(what, read), _call(what, read)
            if sorted(map(repr, first)) != sorted(map(repr, second)):
                _fail(f"{what} answered differently when asked again with nothing changed")

    # -- writes ----------------------------------------------------------------------------

    def _once_per_key(
        self,
        backend: ConformanceBackend,
        client_plugin: ClientPlugin,
        entry_point: EntryPoint,
        effect: Effect,
        hook: str,
        make: Maker,
    ) -> None:
        """Write with one key three times (here, in a fresh process, here again): one
        effect, one reference; then with another key: a second effect, another reference."""
        what = effect.replace("_", " ")
        write = getattr(client_plugin, hook)
        before = _effects(backend, effect)
        request = make(kit.new_key(effect), 0)
        first = _call(f"{hook}()", lambda: write(request))
        after_first = _effects(backend, effect)
        made = sorted(set(after_first) - set(before))
        if len(made) != 1:
            _fail(
                f"{hook}() made {len(made)} {what}(s) in the system for one call, not 1"
                f" (the backend reports {made})"
            )
        answer = fresh_process.call(entry_point, client_plugin.ctx, hook, request)
        self._watch.add("the output of the fresh process", answer.output)
        if answer.reference is None:
            _fail(
                f"{hook}() repeated with the same idempotency_key in a fresh process (as after"
                f" a restart) failed: {answer.failure}. A repeat must return the first"
                f" reference, not an error. The process's output ends: {answer.output[-1500:]}"
            )
        third = _call(f"{hook}() repeated", lambda: write(request))
        after_repeats = _effects(backend, effect)
        extra = sorted(set(after_repeats) - set(after_first))
        changed = sorted(k for k in after_first if after_repeats.get(k) != after_first[k])
        if extra or changed:
            _fail(
                f"{hook}() called again with the same idempotency_key made {len(extra)} more"
                f" {what}(s) and changed {len(changed)} ({checks.some(extra + changed)}): honour"
                " the key across processes: look it up in the system before writing, or use"
                " the system's own idempotency support (an Idempotency-Key header), so a"
                " repeat after a crash writes nothing"
            )
        if not first == answer.reference == third:
            _fail(
                f"{hook}() with the same idempotency_key returned {first!r}, then"
                f" {answer.reference!r} (fresh process), then {third!r}: a repeat must return"
                " the first call's reference, the core stores it"
            )
        other = make(kit.new_key(effect), 1)
        second = _call(f"{hook}() with another key", lambda: write(other))
        made = sorted(set(_effects(backend, effect)) - set(after_repeats))
        if len(made) != 1 or second == first:
            _fail(
                f"{hook}() with a new idempotency_key made {len(made)} {what}(s) and returned"
                f" {second!r} (the first key's reference was {first!r}): a new key is a new"
                f" {what}, with a reference of its own"
            )

    test_credit_note_once_per_key = _once_per_key_test(
        Capability.CREDIT_NOTE, "credit_note", "create_credit_note", _credit_note
    )
    test_journal_voucher_once_per_key = _once_per_key_test(
        Capability.JOURNAL, "voucher", "post_journal_lines", _loss_voucher
    )
    test_invoice_once_per_key = _once_per_key_test(
        Capability.CREATE_INVOICE, "invoice", "create_invoice", _draft("invoice")
    )
    test_order_once_per_key = _once_per_key_test(
        Capability.CREATE_ORDER, "order", "create_invoice", _draft("order")
    )
    test_message_once_per_key = _once_per_key_test(
        Capability.DELIVER, "message", "deliver_message", _message
    )

    # -- errors ----------------------------------------------------------------------------

    def _fault_maps_to(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
        fault: Fault,
        expected: type[HubError],
    ) -> None:
        """Under ``fault``, every hook the plugin offers raises ``expected``."""
        data = request.getfixturevalue("seeded") if info.kind == "accounting" else None
        problems: list[str] = []
        with self._failing(backend, fault) as settings:
            plugin = registry.for_client(self.context(backend, info, settings))
            for what, action in self._every_call(plugin, backend, data):
                try:
                    action()
                except HubError as exc:
                    self._watch.add(f"the error of {what} under {fault!r}", f"{exc!r} {exc}")
                    if not isinstance(exc, expected):
                        problems.append(f"{what} raised {type(exc).__name__}: {exc}")
                    elif getattr(exc, "plugin", None) != info.name:
                        problems.append(f"{what}: the {expected.__name__} names no plugin")
                else:
                    problems.append(f"{what} succeeded")
        if problems:
            _fail(
                f"with the backend failing as {fault!r}, every hook must raise"
                f" hub.errors.{expected.__name__} (hub.toolkit.http.make_client maps HTTP statuses"
                f" for"
                f" you): {checks.some(problems)}"
            )

    test_refused_credentials_raise_auth_error = _fault_test(
        "auth",
        AuthError,
        "Refused credentials are an ``AuthError`` from every hook, naming the credential"
        " (never its value).",
    )
    test_throttling_raises_throttled_error = _fault_test(
        "throttle",
        ThrottledError,
        "Throttling beyond what retrying absorbs is a ``ThrottledError`` from every hook.",
    )
    test_server_errors_raise_remote_server_error = _fault_test(
        "server_error",
        RemoteServerError,
        "A system that keeps failing is a ``RemoteServerError`` from every hook.",
    )

    def test_malformed_answers_raise_invalid_data_error(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
    ) -> None:
        """An answer the plugin cannot read is an ``InvalidDataError`` saying where, never a
        skipped or defaulted record (the hub would take the invoice for paid): the open
        invoices raise, and every other read either raises or answers exactly what the
        system holds."""
        data = request.getfixturevalue("seeded") if info.kind == "accounting" else None
        problems: list[str] = []
        with self._failing(backend, "malformed") as settings:
            plugin = registry.for_client(self.context(backend, info, settings))
            calls = (
                self._reads(plugin, data)
                if data is not None
                else self._writes(plugin, backend, None)
            )
            for what, action in calls:
                try:
                    answer = action()
                except InvalidDataError as exc:
                    self._watch.add(f"the error of {what}", f"{exc!r} {exc}")
                    continue
                except HubError as exc:
                    problems.append(f"{what} raised {type(exc).__name__}: {exc}")
                    continue
                if data is None or what == "fetch_open_invoices()":
                    problems.append(f"{what} succeeded")
                    continue
                wrong = self._answer_problems(what, answer, data)
                if wrong:
                    problems.append(f"{what} answered, and wrongly: {checks.some(wrong)}")
        if problems:
            _fail(
                "with the backend answering something unreadable, raise"
                " hub.errors.InvalidDataError (say where: URL, file and line); never skip or"
                f" default a record: {checks.some(problems)}"
            )

    @staticmethod
    def _answer_problems(what: str, answer: Any, data: ConformanceData) -> list[str]:
        if what.startswith("fetch_invoice_status"):
            return checks.status_problems(answer, data)
        if what.startswith("fetch_customers"):
            return checks.customer_problems(answer, data)
        return checks.balance_problems(answer, data)

    # -- secrets ---------------------------------------------------------------------------

    def test_secrets_never_appear_in_logs_or_errors(
        self,
        request: pytest.FixtureRequest,
        backend: ConformanceBackend,
        info: SystemInfo,
        registry: PluginRegistry,
        leak_watch: LeakWatch,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """Every hook, healthy, repeated with the same key, and under every fault the backend
        can make, logged at every level: no secret value in any log, output or error."""
        if not info.secret_names:
            pytest.skip(f"{info.name} declares no secret settings")
        if not leak_watch.secrets:
            _fail(
                f"the backend's settings() give no value of at least {leaks.MIN_SECRET_CHARS}"
                f" characters for the secret settings {sorted(info.secret_names)}: give"
                " realistic ones, so that the kit can look for them"
            )
        data = request.getfixturevalue("seeded") if info.kind == "accounting" else None
        plugin = registry.for_client(self.context(backend, info, backend.settings()))
        leak_watch.add("repr(ctx)", repr(plugin.ctx))
        for what, action in self._every_call(plugin, backend, data):
            for _ in range(2):  # a write twice: the second finds the key and answers
                try:
                    action()
                except HubError as exc:
                    leak_watch.add(f"the error of {what}", f"{exc!r} {exc}")
        for fault in ("auth", "throttle", "server_error", "malformed"):
            try:
                failing = backend.fault(fault)
            except NotImplementedError:
                continue
            with failing as settings:
                failing_plugin = registry.for_client(self.context(backend, info, settings))
                for what, action in self._every_call(failing_plugin, backend, data):
                    try:
                        action()
                    except HubError as exc:
                        leak_watch.add(f"the error of {what} under {fault!r}", f"{exc!r} {exc}")
        out, err = capfd.readouterr()
        leak_watch.add("standard output", out)
        leak_watch.add("standard error", err)
        found = leak_watch.leaks()
        if found:
            leak_watch.reported = True  # once, here, not again when the watch ends
            _fail(
                f"a secret leaked: {checks.some(found)}. Log and report which credential,"
                " never its value."
            )


TEST_NAMES = frozenset(name for name in vars(PluginConformance) if name.startswith("test_"))
