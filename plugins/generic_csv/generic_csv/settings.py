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
#: ``decimal_mark``: the file decides (``auto``), or the user declares the mark.
DECIMAL_MARKS: dict[str, str | None] = {"auto": None, "comma": ",", "point": "."}

#: The default of ``max_file_mb``: a few times any real small-business export (a 50 MB export
#: holds about half a million invoices), small enough that reading it cannot exhaust memory.
DEFAULT_MAX_FILE_MB = 100
#: The largest ``max_file_mb`` accepted.
MAX_FILE_MB = 2000

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
    SettingSpec(
        name="decimal_mark",
        default="auto",
        description="The exports' decimal mark: 'comma' (1.500 is fifteen hundred), 'point'"
        " (1,500 is fifteen hundred), or 'auto': the file's unambiguous amounts decide.",
    ),
    SettingSpec(
        name="require_final_newline",
        type="boolean",
        default="true",
        description="true: a file whose last line is not followed by a line break is refused"
        " as cut off mid-row; false: the accounting program never ends its exports with one.",
    ),
    SettingSpec(
        name="max_file_mb",
        type="integer",
        default=str(DEFAULT_MAX_FILE_MB),
        description="Largest export read, in megabytes (10^6 bytes); a larger file is refused"
        " unread.",
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
    require_final_newline: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_MB * 1_000_000
    decimal_mark: str | None = None  # "," or "." as declared; None: each file decides


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a required setting is missing, ``export_scope`` is not ``open`` or
        ``all``, ``decimal_mark`` is not ``auto``, ``comma`` or ``point``,
        ``default_currency`` is not a three-letter code, ``columns`` is malformed
        or names an unknown field, ``require_final_newline`` is not a boolean or
        ``max_file_mb`` not a whole number from 1 to :data:`MAX_FILE_MB`.
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
    mark_name = (read.optional("decimal_mark") or "auto").lower()
    if mark_name not in DECIMAL_MARKS:
        raise SettingsError(
            f"setting decimal_mark must be one of {', '.join(DECIMAL_MARKS)},"
            f" not {settings.get('decimal_mark')!r}"
        )
    max_mb = read.integer("max_file_mb", minimum=1)
    read.check("max_file_mb", max_mb <= MAX_FILE_MB, f"must be at most {MAX_FILE_MB}, not {max_mb}")
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
        require_final_newline=read.boolean("require_final_newline"),
        max_file_bytes=max_mb * 1_000_000,
        decimal_mark=DECIMAL_MARKS[mark_name],
    )


def check_settings(settings: Mapping[str, str]) -> None:
    """Refuse settings this plugin cannot work with, when they are set rather than at the next
    sync: everything :func:`load_config` checks, and path settings naming something that
    exists but is not what they need (``invoices_path=/dev/zero``, a directory; an
    ``outbox_dir`` that is a file). A file that does not exist yet is accepted: the accounting
    program may write its first export later.

    :raises SettingsError: naming the setting, the value and what is allowed.
    """
    config = load_config(settings)
    for name, path in (
        ("invoices_path", config.invoices_path),
        ("customers_path", config.customers_path),
    ):
        if path is not None and path.exists() and not path.is_file():
            raise SettingsError(
                f"setting {name}: {str(path)!r} is not a regular file; name the exported file"
            )
    if config.outbox_dir.exists() and not config.outbox_dir.is_dir():
        raise SettingsError(f"setting outbox_dir: {str(config.outbox_dir)!r} is not a directory")
