"""The plugin's settings schema and the checked, defaulted view of one client's settings.

The core validates types against :data:`SETTINGS` but fills in no defaults, so every hook
builds a :class:`Config` with :func:`load_config` on each call (no state kept between calls).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generic_csv.columns import parse_overrides
from hub.errors import SettingsError
from hub.model import SettingSpec
from hub.toolkit.settings import SettingsReader

EXPORT_SCOPES: tuple[str, ...] = ("open", "all")

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="invoices_path",
        type="path",
        required=True,
        description="CSV export of open invoices (or of all invoices, see export_scope).",
    ),
    SettingSpec(
        name="customers_path",
        type="path",
        description="CSV export of customers (optional): contact data and balances.",
    ),
    SettingSpec(
        name="outbox_dir",
        type="path",
        required=True,
        description="Directory where credit notes, vouchers, invoices and orders are written,"
        " one CSV file each (created if missing).",
    ),
    SettingSpec(
        name="columns",
        description="Column mapping overrides, field=Header;field=Header"
        " (e.g. invoice_number=Fakturanr.;gross_amount=Beløb i alt).",
    ),
    SettingSpec(
        name="export_scope",
        default="open",
        description="'open': the invoices file lists open invoices only, so an invoice missing"
        " from it is paid; 'all': it lists all invoices, so a missing one is unknown.",
    ),
    SettingSpec(
        name="default_currency",
        description="ISO 4217 currency (e.g. DKK) for files without a currency column.",
    ),
)


@dataclass(frozen=True)
class Config:
    """One client's settings for this plugin, checked and with defaults applied."""

    invoices_path: Path
    customers_path: Path | None
    outbox_dir: Path
    columns: Mapping[str, str]
    export_scope: str
    default_currency: str | None


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a required setting is missing, ``export_scope`` is not ``open`` or
        ``all``, ``default_currency`` is not a three-letter code, or ``columns`` is malformed
        or names an unknown field.
    """
    read = SettingsReader(SETTINGS, settings)
    invoices_path = read.path("invoices_path")
    outbox_dir = read.path("outbox_dir")
    scope = (read.optional("export_scope") or "").lower()
    if scope not in EXPORT_SCOPES:
        raise SettingsError(
            f"setting export_scope must be one of {', '.join(EXPORT_SCOPES)},"
            f" not {settings.get('export_scope')!r}"
        )
    currency = read.optional("default_currency")
    if currency is not None:
        currency = currency.upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise SettingsError(
                f"setting default_currency must be an ISO 4217 code like DKK, not {currency!r}"
            )
    return Config(
        invoices_path=invoices_path,
        customers_path=read.optional_path("customers_path"),
        outbox_dir=outbox_dir,
        columns=parse_overrides(read.optional("columns")),
        export_scope=scope,
        default_currency=currency,
    )
