"""Plugin discovery, registration and per-client selection.

Builtin plugins are not special: every plugin, ours or a third party's, is found through the
entry point group ``receivables_hub`` and registered under its entry point name.

* ``HUB_LOAD_PLUGINS=a,b`` loads only the named plugins (``HUB_LOAD_PLUGINS=`` loads none).
* ``HUB_BLOCK_PLUGINS=a,b`` never loads the named plugins (they are blocked in pluggy too, so a
  later ``register`` of them is ignored).
* A plugin that fails to import, misspells a hook (``check_pending``), has a hook signature the
  contract does not allow, whose ``system_info`` fails, or that lacks a hook its kind or its
  declared capabilities need (:data:`REQUIRED_HOOKS`, :data:`CAPABILITY_HOOKS`) is *reported*
  (``hub plugins list``) and skipped; it never stops the hub.

Calls for a client go through :class:`ClientPlugin`, which calls one plugin only, using
``subset_hook_caller``: a hook call for client A can never reach client B's plugin.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pluggy

from hub import hookspecs
from hub.errors import CapabilityMissing, HubError, InvalidDataError, NotFoundError, PluginError
from hub.model import (
    Capability,
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

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME

#: Hooks a plugin of each kind must implement, whatever it declares.
REQUIRED_HOOKS: dict[str, tuple[str, ...]] = {
    "accounting": ("fetch_open_invoices", "fetch_invoice_status", "fetch_customers"),
    "delivery": ("deliver_message",),
}

#: The hook each declared capability promises (stated once, by :class:`Capability`).
CAPABILITY_HOOKS: dict[Capability, str] = {c: c.hook for c in Capability if c.hook is not None}

T = TypeVar("T")
C = TypeVar("C", CustomerBalance, Customer)  # a value answered per customer


@dataclass
class PluginRegistry:
    """The plugin manager plus what loading found: each plugin's info and each failure."""

    pm: pluggy.PluginManager
    infos: dict[str, SystemInfo] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    _subset_callers: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, name: str, plugin: object) -> None:
        """Register ``plugin`` under ``name``; on any contract violation record it and skip it."""
        self._subset_callers.clear()
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy raises PluginValidationError / ValueError
            self.errors[name] = f"refused by the plugin contract: {exc}"
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            self.errors[name] = f"implements a hook the contract does not have: {exc}"
            return
        try:
            info = self._call_system_info(name)
        except Exception as exc:
            self.pm.unregister(name=name)
            self.errors[name] = f"system_info() failed: {type(exc).__name__}: {exc}"
            return
        if info.name != name:
            self.pm.unregister(name=name)
            self.errors[name] = (
                f"system_info().name is {info.name!r} but the plugin is registered as {name!r}"
            )
            return
        lacking = self._lacking_hooks(plugin, info)
        if lacking:
            self.pm.unregister(name=name)
            self.errors[name] = f"{info.kind} plugin does not implement {'; '.join(lacking)}"
            return
        self.infos[name] = info

    def _lacking_hooks(self, plugin: object, info: SystemInfo) -> list[str]:
        """What the plugin's kind and declared capabilities need but it does not implement."""
        implemented = {caller.name for caller in self.pm.get_hookcallers(plugin) or []}
        lacking = [
            f"{hook}() (every {info.kind} plugin needs it)"
            for hook in REQUIRED_HOOKS.get(info.kind, ())
            if hook not in implemented
        ]
        lacking += [
            f"{hook}() (it declares the capability {capability.value!r})"
            for capability, hook in sorted(CAPABILITY_HOOKS.items())
            if capability in info.capabilities and hook not in implemented
        ]
        return lacking

    def _call_system_info(self, name: str) -> SystemInfo:
        answers = self._caller(name, "system_info")()
        if len(answers) != 1 or not isinstance(answers[0], SystemInfo):
            raise PluginError(f"system_info() must return one SystemInfo, got {answers!r}")
        info: SystemInfo = answers[0]
        return info

    def _caller(self, name: str, hook: str) -> Any:
        """A hook caller that reaches plugin ``name`` only (cached; the set never changes)."""
        key = (name, hook)
        with self._lock:
            caller = self._subset_callers.get(key)
            if caller is None:
                plugin = self.pm.get_plugin(name)
                others = [p for p in self.pm.get_plugins() if p is not plugin]
                caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
                self._subset_callers[key] = caller
        return caller

    def names(self) -> list[str]:
        return sorted(self.infos)

    def info(self, name: str) -> SystemInfo:
        try:
            return self.infos[name]
        except KeyError:
            if name in self.errors:
                raise PluginError(
                    f"plugin {name!r} failed to load: {self.errors[name]}", plugin=name
                ) from None
            known = ", ".join(self.names()) or "none"
            raise NotFoundError(
                f"no plugin named {name!r} is installed (installed: {known})"
            ) from None

    def check_settings(self, name: str, settings: Mapping[str, str]) -> None:
        """Let plugin ``name`` refuse ``settings`` (its ``check_settings`` hook, if it has one).

        :raises SettingsError: the plugin refused them.
        :raises PluginError: the hook failed with anything but a :class:`HubError`.
        """
        try:
            self._caller(name, "check_settings")(settings=dict(settings))
        except HubError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r}: check_settings() failed: {type(exc).__name__}: {exc}",
                plugin=name,
            ) from exc

    def for_client(self, ctx: ClientContext) -> ClientPlugin:
        return ClientPlugin(self, self.info(ctx.plugin), ctx)


def _env_names(variable: str) -> set[str] | None:
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    *,
    honour_environment: bool = True,
) -> PluginRegistry:
    """Discover and register plugins from entry points, honouring the environment switches
    (``HUB_LOAD_PLUGINS``, ``HUB_BLOCK_PLUGINS``) unless told not to: the conformance kit
    loads the one plugin it was asked to test, whatever the operator's environment says."""
    registry = PluginRegistry(new_plugin_manager())
    wanted = _env_names("HUB_LOAD_PLUGINS") if honour_environment else None
    blocked = (_env_names("HUB_BLOCK_PLUGINS") if honour_environment else None) or set()
    for name in blocked:
        registry.pm.set_blocked(name)
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in sorted(entry_points, key=lambda e: e.name):
        if (wanted is not None and ep.name not in wanted) or ep.name in blocked:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            registry.errors[ep.name] = f"failed to import {ep.value}: {type(exc).__name__}: {exc}"
            continue
        registry.register(ep.name, plugin)
    return registry


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry, loaded on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = load_plugins()
        return _registry


def reset_registry() -> None:
    """Forget the loaded plugins (tests; after changing ``HUB_LOAD_PLUGINS``)."""
    global _registry
    with _registry_lock:
        _registry = None


def _check_list(plugin: str, hook: str, result: object, kind: type[T]) -> list[T]:
    if result is None:
        # Registration made sure the hook is implemented, so None is a wrong answer.
        raise InvalidDataError(
            f"{hook}() must return a list of {kind.__name__}, got None", plugin=plugin
        )
    if not isinstance(result, list | tuple):
        raise InvalidDataError(
            f"{hook}() must return a list of {kind.__name__}, got {type(result).__name__}",
            plugin=plugin,
        )
    for item in result:
        if not isinstance(item, kind):
            raise InvalidDataError(
                f"{hook}() must return {kind.__name__} values, got {type(item).__name__}",
                plugin=plugin,
            )
    return list(result)


def _check_numbers(
    plugin: str, hook: str, what: str, asked: Sequence[str], answered: Iterable[str]
) -> None:
    """Refuse answers for numbers that were not asked for, and numbers answered twice."""
    wanted = set(asked)
    counts = Counter(answered)
    problems: list[str] = []
    unasked = sorted(n for n in counts if n not in wanted)
    if unasked:
        problems.append(f"{len(unasked)} {what}(s) that were not asked for: {_some(unasked)}")
    twice = sorted(n for n, c in counts.items() if c > 1)
    if twice:
        problems.append(f"{len(twice)} {what}(s) more than once: {_some(twice)}")
    if problems:
        raise InvalidDataError(
            f"plugin {plugin!r}: {hook}() answered for " + "; and for ".join(problems),
            plugin=plugin,
        )


def _some(numbers: list[str], limit: int = 10) -> str:
    shown = ", ".join(numbers[:limit])
    return shown + (f" (and {len(numbers) - limit} more)" if len(numbers) > limit else "")


def _check_reference(plugin: str, hook: str, result: object) -> str:
    if not isinstance(result, str) or not result.strip():
        raise InvalidDataError(
            f"{hook}() must return the external reference as text, got {result!r}", plugin=plugin
        )
    return result


class ClientPlugin:
    """One client's accounting plugin: the only way the core calls the accounting hooks.

    Each method calls the hook on this client's plugin alone, checks the capability first and
    the shape of the answer after, and tags errors with the plugin's name.
    """

    def __init__(self, registry: PluginRegistry, info: SystemInfo, ctx: ClientContext) -> None:
        self.info = info
        self.ctx = ctx
        self._registry = registry

    @property
    def name(self) -> str:
        return self.info.name

    def has(self, capability: Capability) -> bool:
        return capability in self.info.capabilities

    def require(self, capability: Capability, action: str) -> None:
        if not self.has(capability):
            raise CapabilityMissing(
                f"{action} is not available for client {self.ctx.client_name!r}: its accounting"
                f" plugin {self.name!r} does not declare the capability {capability.value!r}",
                plugin=self.name,
            )

    def _call(self, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on this plugin alone.

        The contract's errors (:class:`PluginError` and its kinds) are tagged with the plugin's
        name; other hub errors a plugin raises (a :class:`~hub.errors.SettingsError` naming a
        setting to fix) pass unchanged; anything else is a plugin bug and becomes a
        :class:`PluginError` saying so, with the original as its cause.
        """
        caller: Callable[..., Any] = self._registry._caller(self.name, hook)
        try:
            return caller(ctx=self.ctx, **kwargs)
        except PluginError as exc:
            if exc.plugin is None:
                exc.plugin = self.name
            raise
        except HubError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {self.name!r} failed: {type(exc).__name__}: {exc}", plugin=self.name
            ) from exc

    def fetch_open_invoices(self) -> list[Invoice]:
        result = self._call("fetch_open_invoices")
        return _check_list(self.name, "fetch_open_invoices", result, Invoice)

    def fetch_invoice_status(self, invoice_numbers: list[str]) -> list[InvoiceStatus]:
        if not invoice_numbers:
            return []
        result = self._call("fetch_invoice_status", invoice_numbers=invoice_numbers)
        statuses = _check_list(self.name, "fetch_invoice_status", result, InvoiceStatus)
        answered = [s.invoice_number for s in statuses]
        _check_numbers(self.name, "fetch_invoice_status", "invoice", invoice_numbers, answered)
        missing = set(invoice_numbers) - set(answered)
        if missing:
            raise InvalidDataError(
                f"fetch_invoice_status() gave no status for {len(missing)} invoice(s),"
                f" e.g. {sorted(missing)[:5]}; unknown invoices must be answered as UNKNOWN",
                plugin=self.name,
            )
        return statuses

    def fetch_customer_balance(self, customer_numbers: list[str]) -> list[CustomerBalance]:
        self.require(Capability.CUSTOMER_BALANCE, "fetching customer balances")
        return self._per_customer("fetch_customer_balance", customer_numbers, CustomerBalance)

    def fetch_customers(self, customer_numbers: list[str]) -> list[Customer]:
        return self._per_customer("fetch_customers", customer_numbers, Customer)

    def _per_customer(self, hook: str, customer_numbers: list[str], kind: type[C]) -> list[C]:
        """``hook`` called for ``customer_numbers``: a list of ``kind``, each for one of them."""
        if not customer_numbers:
            return []
        result = self._call(hook, customer_numbers=customer_numbers)
        found = _check_list(self.name, hook, result, kind)
        _check_numbers(
            self.name, hook, "customer", customer_numbers, (x.customer_number for x in found)
        )
        return found

    def create_credit_note(self, request: CreditNoteRequest) -> str:
        return self._make(Capability.CREDIT_NOTE, "creating a credit note", request=request)

    def post_journal_lines(self, entry: JournalEntry) -> str:
        return self._make(Capability.JOURNAL, "posting journal lines", entry=entry)

    def create_invoice(self, draft: InvoiceDraft) -> str:
        capability = Capability.CREATE_ORDER if draft.kind == "order" else Capability.CREATE_INVOICE
        return self._make(capability, f"creating an {draft.kind}", draft=draft)

    def deliver_message(self, message: OutgoingMessage) -> str:
        return self._make(Capability.DELIVER, "delivering a message", message=message)

    def _make(self, capability: Capability, doing: str, **kwargs: Any) -> str:
        """The hook ``capability`` promises, called with ``kwargs`` (refused, saying what it
        was ``doing``, if the plugin lacks it): the reference of what it made."""
        self.require(capability, doing)
        hook = capability.hook
        assert hook is not None
        return _check_reference(self.name, hook, self._call(hook, **kwargs))
