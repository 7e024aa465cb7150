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

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.errors import SettingsError
from hub.model import SettingSpec
from hub.toolkit import pool
from hub.toolkit.settings import SettingsReader, secret

DEFAULT_BASE_URL = "https://restapi.e-conomic.com"

SETTINGS: tuple[SettingSpec, ...] = (
    secret(
        "app_secret_token",
        "X-AppSecretToken: the app's own token (developer agreement, Apps).",
    ),
    secret(
        "agreement_grant_token",
        "X-AgreementGrantToken: the token the company's e-conomic user granted"
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
        name="due_date_payment_terms_number",
        type="integer",
        description="Payment terms of type 'due date' (Forfaldsdato) for invoices and orders the"
        " hub makes (recurring agreements), whose due date the agreement sets: e-conomic keeps a"
        " given due date only under such terms. Default: payment_terms_number, else the"
        " customer's; an invoice whose due date those terms would change is then left unbooked.",
    ),
    SettingSpec(
        name="vat_zone_number",
        type="integer",
        description="VAT zone of the recipient of credit notes and invoices. Default: the"
        " credited invoice's recipient's, else the customer's.",
    ),
)


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
    due_date_payment_terms_number: int | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of every setting, tokens included: the key of the client's HTTP client.

        A digest, so the registry of long-lived clients holds no token in its keys.
        """
        return pool.fingerprint(self.app_secret_token, self.agreement_grant_token, self.base_url)

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


def load_config(settings: Mapping[str, str]) -> Config:
    """Check ``settings`` and apply the defaults of :data:`SETTINGS`.

    :raises SettingsError: a token is missing, ``base_url`` is not an http(s) URL, or a number
        setting is not a whole number of 1 or more. The message never contains a token.
    """
    read = SettingsReader(SETTINGS, settings)
    base_url = read.url("base_url")
    product = read.optional("product_number")
    if product is not None:
        size = len(product)
        read.check(
            "product_number", size <= 25, f"has at most 25 characters in e-conomic, not {size}"
        )
    return Config(
        app_secret_token=read.text("app_secret_token"),
        agreement_grant_token=read.text("agreement_grant_token"),
        base_url=base_url,
        journal_number=read.optional_integer("journal_number", minimum=1),
        product_number=product,
        layout_number=read.optional_integer("layout_number", minimum=1),
        payment_terms_number=read.optional_integer("payment_terms_number", minimum=1),
        vat_zone_number=read.optional_integer("vat_zone_number", minimum=1),
        due_date_payment_terms_number=read.optional_integer(
            "due_date_payment_terms_number", minimum=1
        ),
    )
