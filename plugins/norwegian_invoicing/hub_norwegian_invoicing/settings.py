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
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.errors import SettingsError
from hub.model import SettingSpec

DEFAULT_BASE_URL = "https://tripletex.no/v2"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="consumer_token",
        required=True,
        secret=True,
        description="Tripletex consumer token: issued by Tripletex to the integration (the"
        " hub's operator).",
    ),
    SettingSpec(
        name="employee_token",
        required=True,
        secret=True,
        description="Tripletex employee token: made by an administrator of the company under"
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

_SPECS = {spec.name: spec for spec in SETTINGS}
_INTEGER = re.compile(r"-?\d+")
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
        parts = [self.consumer_token, self.employee_token, self.base_url, str(self.company_id)]
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _text(settings: Mapping[str, str], name: str) -> str:
    spec = _SPECS[name]
    raw = settings.get(name)
    value = raw.strip() if raw is not None and raw.strip() else spec.default
    if value is None:
        raise SettingsError(f"setting {name} is required: {spec.description}")
    return value


def _integer(settings: Mapping[str, str], name: str, minimum: int) -> int:
    value = _text(settings, name)
    if not _INTEGER.fullmatch(value) or int(value) < minimum:
        raise SettingsError(
            f"setting {name} must be a whole number of {minimum} or more, not {value!r}"
        )
    return int(value)


def _boolean(settings: Mapping[str, str], name: str) -> bool:
    value = _text(settings, name).lower()
    if value in {"true", "yes", "1", "on"}:
        return True
    if value in {"false", "no", "0", "off"}:
        return False
    raise SettingsError(f"setting {name} must be true or false, not {value!r}")


def _date(settings: Mapping[str, str], name: str) -> dt.date:
    value = _text(settings, name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"setting {name} must be a date YYYY-MM-DD, not {value!r}") from None


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a token is missing, ``base_url`` is not an http(s) URL, a number,
        date or VAT code setting cannot be read. The message never contains a token.
    """
    base_url = _text(settings, "base_url").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise SettingsError(f"setting base_url must be an http(s) URL, not {base_url!r}")
    vat_code = _text(settings, "default_vat_code")
    if not _VAT_CODE.fullmatch(vat_code):
        raise SettingsError(
            f"setting default_vat_code must be a Tripletex VAT code like 3, not {vat_code!r}"
        )
    return Config(
        consumer_token=_text(settings, "consumer_token"),
        employee_token=_text(settings, "employee_token"),
        base_url=base_url,
        company_id=_integer(settings, "company_id", 0),
        receivable_account=_integer(settings, "receivable_account", 1),
        default_vat_code=vat_code,
        invoices_since=_date(settings, "invoices_since"),
        send_to_customer=_boolean(settings, "send_to_customer"),
    )
