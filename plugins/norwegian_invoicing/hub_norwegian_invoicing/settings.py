"""The plugin's settings schema and the checked view of one client's settings.

The core checks types against :data:`SETTINGS` when settings are set and fills in defaults when
it builds a :class:`~hub.model.ClientContext`; :func:`load_config` checks again (a context may be
built by hand) and turns the strings into the values the hooks use.

Only the two tokens are required. Everything else has the default a Norwegian company on the
standard chart of accounts (NS 4102) uses: customer receivables on 1500, output VAT code 3
(25 %). The accounts of a write-off (loss, output VAT) are not settings here: they come with
each voucher the hub sends (the client's rules).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.model import SettingSpec
from hub.toolkit import pool
from hub.toolkit.settings import SettingsReader, secret

DEFAULT_BASE_URL = "https://tripletex.no/v2"

SETTINGS: tuple[SettingSpec, ...] = (
    secret(
        "consumer_token",
        "Tripletex consumer token: issued by Tripletex to the integration (the hub's operator).",
    ),
    secret(
        "employee_token",
        "Tripletex employee token: made by an administrator of the company under"
        " Settings > API access, for the hub's integration.",
    ),
    SettingSpec(
        name="base_url",
        type="url",
        default=DEFAULT_BASE_URL,
        description="Tripletex API v2 (the test environment: https://api-test.tripletex.tech/v2).",
    ),
    SettingSpec(
        name="company_id",
        type="integer",
        default="0",
        description="The company the hub works for: 0 is the employee token's own company; an"
        " accountant's token may name a client company's id (GET /company/>withLoginAccess).",
    ),
    SettingSpec(
        name="receivable_account",
        type="integer",
        default="1500",
        description="Customer receivables account (kundefordringer): customer lines of vouchers"
        " are posted to it, and customer balances are its open posts.",
    ),
    SettingSpec(
        name="default_vat_code",
        default="3",
        description="Tripletex VAT code (MVA-kode, the vatType number) of invoice lines whose"
        " VAT code the hub leaves empty; 3 is output VAT at the high rate (25 %).",
    ),
    SettingSpec(
        name="invoices_since",
        default="2000-01-01",
        description="First invoice date (YYYY-MM-DD) the hub reads: Tripletex lists invoices by"
        " date range only, with no unpaid filter, so every invoice from this date is read on"
        " each sync. Set it to the date the company's oldest open invoice is from.",
    ),
    SettingSpec(
        name="send_to_customer",
        type="boolean",
        default="true",
        description="Whether Tripletex sends the invoices and credit notes the hub creates to"
        " the customer (by the customer's send method), as its own invoicing screen does.",
    ),
)

_VAT_CODE = re.compile(r"[0-9A-Za-z]{1,10}")


@dataclass(frozen=True)
class Config:
    """One client's settings for this plugin, checked; the tokens never appear in its repr."""

    consumer_token: str = field(repr=False)
    employee_token: str = field(repr=False)
    base_url: str
    company_id: int
    receivable_account: int
    default_vat_code: str
    invoices_since: dt.date
    send_to_customer: bool

    @property
    def secrets(self) -> tuple[str, str]:
        return (self.consumer_token, self.employee_token)

    @property
    def fingerprint(self) -> str:
        """A digest of the settings that make a session (tokens, URL, company): the key of the
        client's long-lived HTTP client, so the registry of clients holds no token."""
        return pool.fingerprint(*self.secrets, self.base_url, str(self.company_id))


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a token is missing, ``base_url`` is not an http(s) URL, a number,
        date or VAT code setting cannot be read. The message never contains a token.
    """
    read = SettingsReader(SETTINGS, settings)
    base_url = read.url("base_url")
    vat_code = read.text("default_vat_code")
    read.check(
        "default_vat_code",
        _VAT_CODE.fullmatch(vat_code) is not None,
        f"must be a Tripletex VAT code like 3, not {vat_code!r}",
    )
    return Config(
        consumer_token=read.text("consumer_token"),
        employee_token=read.text("employee_token"),
        base_url=base_url,
        company_id=read.integer("company_id", minimum=0),
        receivable_account=read.integer("receivable_account", minimum=1),
        default_vat_code=vat_code,
        invoices_since=read.date("invoices_since"),
        send_to_customer=read.boolean("send_to_customer"),
    )
