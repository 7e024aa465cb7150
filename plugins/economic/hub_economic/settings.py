"""The plugin's settings schema and the checked view of one client's settings.

The core checks types against :data:`SETTINGS` when settings are set and fills in defaults when
it builds a :class:`~hub.model.ClientContext`; :func:`load_config` checks again (a context may be
built by hand) and turns the strings into the values the hooks use.

Where e-conomic needs a number on a document the hub does not know (layout, payment terms, VAT
zone), the setting is optional and the document takes the customer's own (or, for a credit
note, the credited invoice's): that is what e-conomic's own "new invoice" screen does.
The product has no such fallback: it decides the revenue account and the VAT of every line, an
accounting decision, so a write that needs it says which setting to set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.errors import SettingsError
from hub.model import SettingSpec

DEFAULT_BASE_URL = "https://restapi.e-conomic.com"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="app_secret_token",
        required=True,
        secret=True,
        description="X-AppSecretToken: the app's own token (developer agreement, Apps).",
    ),
    SettingSpec(
        name="agreement_grant_token",
        required=True,
        secret=True,
        description="X-AgreementGrantToken: the token the company's e-conomic user granted"
        " the app through its installation URL.",
    ),
    SettingSpec(
        name="base_url",
        type="url",
        default=DEFAULT_BASE_URL,
        description="e-conomic's REST API (legacy REST).",
    ),
    SettingSpec(
        name="journal_number",
        type="integer",
        description="Journal (kassekladde) that write-off vouchers are posted to; needed for"
        " write-offs. The vouchers wait there for a person to book the journal.",
    ),
    SettingSpec(
        name="product_number",
        description="Product of every line of credit notes and created invoices; its product"
        " group decides the revenue account and the VAT. Needed for credit notes and invoices.",
    ),
    SettingSpec(
        name="layout_number",
        type="integer",
        description="Layout of credit notes and invoices. Default: the credited invoice's layout,"
        " else the customer's.",
    ),
    SettingSpec(
        name="payment_terms_number",
        type="integer",
        description="Payment terms of credit notes and invoices. Default: the credited"
        " invoice's, else the customer's.",
    ),
    SettingSpec(
        name="vat_zone_number",
        type="integer",
        description="VAT zone of the recipient of credit notes and invoices. Default: the"
        " credited invoice's recipient's, else the customer's.",
    ),
)

_SPECS = {spec.name: spec for spec in SETTINGS}
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Config:
    """One client's settings for this plugin, checked; the tokens never appear in its repr."""

    app_secret_token: str = field(repr=False)
    agreement_grant_token: str = field(repr=False)
    base_url: str
    journal_number: int | None
    product_number: str | None
    layout_number: int | None
    payment_terms_number: int | None
    vat_zone_number: int | None

    @property
    def fingerprint(self) -> str:
        """A digest of every setting, tokens included: the key of the client's HTTP client.

        A digest, so the registry of long-lived clients holds no token in its keys.
        """
        parts = [
            self.app_secret_token,
            self.agreement_grant_token,
            self.base_url,
        ]
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()

    def need_journal(self) -> int:
        if self.journal_number is None:
            raise SettingsError(
                "setting journal_number is needed to post a voucher: the number of the e-conomic"
                " journal (kassekladde) write-offs go to (hub clients set CLIENT journal_number=N)"
            )
        return self.journal_number

    def need_product(self, what: str) -> str:
        if self.product_number is None:
            raise SettingsError(
                f"setting product_number is needed for {what}: the e-conomic product of its"
                " lines, whose product group decides account and VAT"
                " (hub clients set CLIENT product_number=N)"
            )
        return self.product_number


def _text(settings: Mapping[str, str], name: str) -> str | None:
    spec = _SPECS[name]
    raw = settings.get(name)
    value = raw.strip() if raw is not None and raw.strip() else spec.default
    if value is None and spec.required:
        raise SettingsError(f"setting {name} is required: {spec.description}")
    return value


def _required(settings: Mapping[str, str], name: str) -> str:
    value = _text(settings, name)
    if value is None:  # only for a spec that is not required; kept for the type checker
        raise SettingsError(f"setting {name} is required")
    return value


def _positive(settings: Mapping[str, str], name: str) -> int | None:
    value = _text(settings, name)
    if value is None:
        return None
    if not _INTEGER.fullmatch(value) or int(value) < 1:
        raise SettingsError(f"setting {name} must be a whole number of 1 or more, not {value!r}")
    return int(value)


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a token is missing, ``base_url`` is not an http(s) URL, or a number
        setting is not a whole number of 1 or more. The message never contains a token.
    """
    base_url = _required(settings, "base_url").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise SettingsError(f"setting base_url must be an http(s) URL, not {base_url!r}")
    product = _text(settings, "product_number")
    if product is not None and len(product) > 25:
        raise SettingsError(
            f"setting product_number has at most 25 characters in e-conomic, not {len(product)}"
        )
    return Config(
        app_secret_token=_required(settings, "app_secret_token"),
        agreement_grant_token=_required(settings, "agreement_grant_token"),
        base_url=base_url,
        journal_number=_positive(settings, "journal_number"),
        product_number=product,
        layout_number=_positive(settings, "layout_number"),
        payment_terms_number=_positive(settings, "payment_terms_number"),
        vat_zone_number=_positive(settings, "vat_zone_number"),
    )
