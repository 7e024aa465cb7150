"""Customer-based reminders (C1–C3): the requirements, the operator's grant, switching modes.

A client is in invoice mode (one flow per invoice, the default) or customer mode (one
consolidated reminder per customer on its overdue balance). Customer mode is enabled only when
every requirement of C2 holds; a refusal lists each one that is missing:

1. the client's accounting plugin reports customer balances (capability ``customer_balance``);
2. entry synchronisation: the plugin synchronises ledger entries (capability
   ``entries_sync``) and the client has not switched it off (rule ``entry_sync``);
3. an operator granted the feature (``hub clients grant NAME customer_reminders``);
4. a general start date is set (rule ``start_date``; invoices due before it are not pursued).

Operators are the users named in ``HUB_OPERATORS`` (comma-separated), which whoever runs the
hub's installation sets; the user is ``HUB_USER`` or the operating-system user. A consultant
who is not an operator cannot grant a feature, so cannot grant it to themselves. (The hub runs
with its users' rights over its own database: this keeps honest people apart and on record,
it is not a wall against someone who can write the database.)

Switching is a migration, both ways (C3): the open cases of the old mode are closed with code
``mode_changed``, and the new mode starts its own cases fresh; the old flows are not restored.
Invoice cases in collection or warned and waiting for their deadline (C4), paused ones (a
person's reason holds in either mode) and those with a write-off or credit note under way stay
as they are; a paused customer case's pause carries over to its invoices, and so do the
payments registered on it. Fees charged before still count toward the law's limits on each
invoice (C5).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clients
from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning import coverage
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import close_case, invoice_cases_from
from hub.dunning.states import Actor, CaseMode, CaseState, CloseCode, Stage
from hub.errors import InputError
from hub.plugins import PluginRegistry

FEATURES: dict[str, str] = {
    "customer_reminders": "customer-based reminders: one reminder per customer's balance (C2)",
}
CUSTOMER_REMINDERS = "customer_reminders"


def _feature(feature: str) -> str:
    if feature not in FEATURES:
        raise InputError(
            f"there is no feature {feature!r} to grant (features: {', '.join(FEATURES)})"
        )
    return feature


def _refuse_unless_operator(who: str, operator: bool, what: str) -> None:
    if not operator:
        raise InputError(
            f"{who!r} is not an operator: only an operator can {what} (operators are the users"
            " listed in HUB_OPERATORS by whoever runs the hub)"
        )


def grant(session: Session, name: str, feature: str, *, by: str, operator: bool) -> t.ClientGrant:
    """The operator ``by`` grants ``feature`` to the client; granting it again changes nothing.

    ``operator``: whether ``by`` is an operator (the front end's actor says).
    """
    _feature(feature)
    _refuse_unless_operator(by, operator, f"grant {feature}")
    client = clients.get_client(session, name)
    existing = granted(session, client, feature)
    if existing is not None:
        return existing
    row = t.ClientGrant(client_id=client.id, feature=feature, granted_by=by)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, name: str, feature: str, *, by: str, operator: bool) -> None:
    """The operator ``by`` takes ``feature`` back; refused while the client uses it."""
    _feature(feature)
    _refuse_unless_operator(by, operator, f"revoke {feature}")
    client = clients.get_client(session, name)
    row = granted(session, client, feature)
    if row is None:
        raise InputError(f"client {name!r} has no grant {feature!r}")
    if dunning_rules.rules_of(session, client).reminder_mode == CaseMode.CUSTOMER:
        raise InputError(
            f"client {name!r} is in customer mode; switch it back first"
            f" (`hub rules set {name} reminder_mode=invoice`)"
        )
    session.delete(row)


def granted(session: Session, client: t.Client, feature: str) -> t.ClientGrant | None:
    return session.scalar(
        select(t.ClientGrant).where(
            t.ClientGrant.client_id == client.id, t.ClientGrant.feature == feature
        )
    )


def missing_requirements(
    session: Session, registry: PluginRegistry, client: t.Client, rules: t.ClientDunning
) -> list[str]:
    """Every requirement of customer mode (C2) the client does not meet, in words."""
    missing = []
    plugin = clients.enabled_plugin(client)
    capabilities: frozenset[str] = frozenset()
    if plugin is None:
        missing.append("no accounting plugin is enabled (`hub clients enable`)")
    else:
        try:
            capabilities = registry.info(plugin.plugin).capabilities
        except InputError as exc:
            missing.append(f"accounting plugin {plugin.plugin!r} is not available: {exc}")
        else:
            if "customer_balance" not in capabilities:
                missing.append(
                    f"accounting plugin {plugin.plugin!r} does not report customer balances"
                    " (capability customer_balance)"
                )
            if "entries_sync" not in capabilities:
                missing.append(
                    f"accounting plugin {plugin.plugin!r} does not synchronise entries"
                    " (capability entries_sync)"
                )
    if not rules.entry_sync:
        missing.append(
            f"entry synchronisation is switched off (`hub rules set {client.name} entry_sync=true`)"
        )
    if granted(session, client, CUSTOMER_REMINDERS) is None:
        missing.append(
            "no operator has granted customer reminders"
            f" (`hub clients grant {client.name} {CUSTOMER_REMINDERS}`, by an operator)"
        )
    if rules.start_date is None:
        missing.append(
            f"no general start date is set (`hub rules set {client.name} start_date=YYYY-MM-DD`)"
        )
    return missing


def _keeps_going(case: t.Case) -> bool:
    """An invoice case in collection or warned and waiting (C4), paused (a person's reason
    holds in either mode) or with a write-off or credit note under way: not migrated."""
    return (
        case.stage == Stage.COLLECTION.value
        or case.collection_deadline is not None
        or case.state == CaseState.PAUSED.value
        or case.write_off_key is not None
        or case.credit_note_key is not None
    )


def _close_for_switch(case: t.Case, reason: str, today: dt.date, actor: str) -> None:
    """The switch closes the case (the hub's doing, ``auto``); the event names who switched."""
    close_case(case, CloseCode.MODE_CHANGED, reason, actor, today, closed_by=Actor.AUTO)


def set_mode(
    session: Session,
    registry: PluginRegistry,
    client: t.Client,
    mode: str,
    today: dt.date,
    *,
    actor: str,
) -> list[t.Case]:
    """Switch the client's reminder mode (C1–C3); returns the cases started by the switch.

    To customer mode: refused unless every requirement holds (listing what is missing); the
    open invoice cases are closed (``mode_changed``/``to_customer_mode``) and the next cycle
    starts one case per customer. Back to invoice mode: the open customer cases are closed
    (``to_invoice_mode``) and a fresh invoice case starts at once for every invoice they
    covered, with the payments registered on them, so no claim is dropped and none is
    overcharged; the customer flows are not restored. ``actor`` (who switched) is recorded on
    the cases the switch closes.
    """
    if mode not in list(CaseMode):
        raise InputError(f"rule reminder_mode: {mode!r} is not one of {', '.join(CaseMode)}")
    rules = dunning_rules.rules_of(session, client)
    if rules.reminder_mode == mode:
        return []
    if mode == CaseMode.CUSTOMER:
        missing = missing_requirements(session, registry, client, rules)
        if missing:
            raise InputError(
                f"customer reminders cannot be enabled for {client.name!r}; missing:\n  - "
                + "\n  - ".join(missing)
            )
    open_cases = list(
        session.scalars(
            select(t.Case)
            .where(t.Case.client_id == client.id, t.Case.state != CaseState.CLOSED.value)
            .order_by(t.Case.id)
        )
    )
    warned = [c for c in open_cases if c.mode == CaseMode.CUSTOMER and c.collection_deadline]
    if mode == CaseMode.INVOICE and warned:
        raise InputError(
            f"customer case(s) {', '.join(str(c.id) for c in warned)} of {client.name!r} got a"
            " collection warning and are handed over to collection invoice by invoice after"
            " their deadline; switch back to invoice mode after that"
        )
    started: list[t.Case] = []
    if mode == CaseMode.CUSTOMER:
        for case in open_cases:
            if case.mode == CaseMode.INVOICE and not _keeps_going(case):
                _close_for_switch(case, "to_customer_mode", today, actor)
    else:
        for case in open_cases:
            if case.mode != CaseMode.CUSTOMER:
                continue
            shares = coverage.shares(
                coverage.customer_invoices(session, case, today),
                sum((p.amount for p in case.payments), ZERO),
            )
            started += invoice_cases_from(
                session, case, shares, today, f"switched back from customer case {case.id} (C3)"
            )
            _close_for_switch(case, "to_invoice_mode", today, actor)
    rules.reminder_mode = mode
    session.flush()
    return started
