"""Reading request bodies of the fake Tripletex like Tripletex maps them (see
:mod:`hub.testing.fakes.tripletex`): a field the model does not have, or a value of the wrong
type, is a *mapping* problem (422, code 16000, "Request mapping failed"; "Feltet eksisterer ikke
i objektet." as captured); a business rule broken is a *rule* problem (422, code 18000,
"Validering feilet."). Every problem names its field (``orderLines[0].count``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from hub.amounts import CENT
from hub.testing.fakes.tripletex.model import CURRENCIES, CURRENCY_BY_ID, validation_error

__all__ = [
    "NOT_FOUND",
    "NULL",
    "ORDER_FIELDS",
    "ORDER_LINE_FIELDS",
    "POSTING_FIELDS",
    "VOUCHER_FIELDS",
    "BodyReader",
    "two_places",
]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Property names of the spec's schemas (API 2.74.00): what a body may carry.
ORDER_FIELDS = _names(
    "id version changes url customer contact attn displayName receiverEmail "
    "overdueNoticeEmail number reference ourContact ourContactEmployee department "
    "orderDate project invoiceComment currency invoicesDueIn status invoicesDueInType "
    "isShowOpenPostsOnInvoices isClosed deliveryDate deliveryAddress deliveryComment "
    "isPrioritizeAmountsIncludingVat orderLineSorting orderGroups orderLines "
    "isSubscription subscriptionDuration subscriptionDurationType "
    "subscriptionPeriodsOnInvoice subscriptionPeriodsOnInvoiceType "
    "subscriptionInvoicingTimeInAdvanceOrArrears subscriptionInvoicingTime "
    "subscriptionInvoicingTimeType isSubscriptionAutoInvoicing preliminaryInvoice "
    "attachment sendMethodDescription canCreateBackorder invoiceOnAccountVatHigh "
    "totalInvoicedOnAccountAmountAbsoluteCurrency invoiceSendSMSNotification "
    "invoiceSMSNotificationNumber markUpOrderLines discountPercentage customerName "
    "projectManagerNameAndNumber travelReports accountingDimensionValues"
)
ORDER_LINE_FIELDS = _names(
    "id version changes url product inventory inventoryLocation description displayName "
    "count unitCostCurrency unitPriceExcludingVatCurrency currency markup discount vatType "
    "amountExcludingVatCurrency amountIncludingVatCurrency vendor order "
    "unitPriceIncludingVatCurrency isSubscription subscriptionPeriodStart "
    "subscriptionPeriodEnd orderGroup sortIndex isPicked pickedDate orderedQuantity "
    "isCharged"
)
VOUCHER_FIELDS = _names(
    "id version changes url date number tempNumber year description voucherType "
    "reverseVoucher postings document attachment externalVoucherNumber ediDocument "
    "supplierVoucherType wasAutoMatched vendorInvoiceNumber displayName numberAsString"
)
POSTING_FIELDS = _names(
    "id version changes url voucher date description account amortizationAccount "
    "amortizationStartDate amortizationEndDate customer supplier employee project product "
    "department vatType amount amountCurrency amountGross amountGrossCurrency currency "
    "closeGroup invoiceNumber termOfPayment row type externalRef systemGenerated "
    "taxTransactionType taxTransactionTypeId matched quantityAmount1 quantityType1 "
    "quantityAmount2 quantityType2 isVatReadonly isAmountVatClosed postingRuleId "
    "freeAccountingDimension1 freeAccountingDimension2 freeAccountingDimension3 asset"
)
NULL = "Kan ikke være null."
NOT_FOUND = "Objektet finnes ikke."


class BodyReader:
    """Reads a body: mapping problems (16000) and rule problems (18000), each with its field."""

    def __init__(self) -> None:
        self.mapping: list[tuple[str | None, str]] = []
        self.rules: list[tuple[str | None, str]] = []

    def object(self, doc: object, known: frozenset[str], where: str) -> Mapping[str, Any]:
        if not isinstance(doc, dict):
            self.mapping.append((where or None, "Forventet et JSON-objekt."))
            return {}
        for key in doc:
            if key not in known:
                self.mapping.append((f"{where}{key}", "Feltet eksisterer ikke i objektet."))
        return doc

    def _wrong(self, name: str) -> None:
        self.mapping.append((name, "Verdien er ikke av korrekt type for dette feltet."))

    def _typed(
        self, doc: Mapping[str, Any], key: str, where: str, kinds: type | tuple[type, ...]
    ) -> Any:
        """``doc[key]`` if absent, null or one of ``kinds`` (a bool is no number); else ``None``
        and a mapping problem."""
        value = doc.get(key)
        if value is None or (
            isinstance(value, kinds) and (kinds is bool) == isinstance(value, bool)
        ):
            return value
        self._wrong(where + key)
        return None

    def text(self, doc: Mapping[str, Any], key: str, where: str = "") -> str | None:
        value: str | None = self._typed(doc, key, where, str)
        return value

    def number(self, doc: Mapping[str, Any], key: str, where: str = "") -> Decimal | None:
        value: int | Decimal | None = self._typed(doc, key, where, (int, Decimal))
        return None if value is None else Decimal(value)

    def integer(self, doc: Mapping[str, Any], key: str, where: str = "") -> int | None:
        value: int | None = self._typed(doc, key, where, int)
        return value

    def boolean(self, doc: Mapping[str, Any], key: str, where: str = "") -> bool | None:
        value: bool | None = self._typed(doc, key, where, bool)
        return value

    def day(self, doc: Mapping[str, Any], key: str, where: str = "") -> date | None:
        value = self.text(doc, key, where)
        if value is None:
            return None
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.rules.append((where + key, f"Ugyldig dato: {value!r} (format YYYY-MM-DD)."))
            return None

    def ref(self, doc: Mapping[str, Any], key: str, where: str = "") -> int | None:
        """The ``id`` of a reference ``{"id": n}``."""
        value: dict[str, Any] | None = self._typed(doc, key, where, dict)
        if value is None:
            return None
        ident = value.get("id")
        if isinstance(ident, bool) or not isinstance(ident, int):
            self._wrong(f"{where}{key}.id")
            return None
        return ident

    def currency(self, doc: Mapping[str, Any], key: str, where: str = "") -> str | None:
        """A currency reference by ``id`` (or, leniently, by ``code``)."""
        value = doc.get(key)
        if isinstance(value, dict) and "id" not in value and isinstance(value.get("code"), str):
            code: str = value["code"]
            if code in CURRENCIES:
                return code
            self.rules.append((f"{where}{key}.code", NOT_FOUND))
            return None
        ident = self.ref(doc, key, where)
        if ident is None:
            return None
        if ident not in CURRENCY_BY_ID:
            self.rules.append((f"{where}{key}.id", NOT_FOUND))
            return None
        return CURRENCY_BY_ID[ident]

    def check(self) -> None:
        if self.mapping:
            raise validation_error(self.mapping, code=16000, message="Request mapping failed")
        if self.rules:
            raise validation_error(self.rules)


def two_places(reader: BodyReader, value: Decimal | None, name: str) -> None:
    if value is not None and value != value.quantize(CENT):
        reader.rules.append((name, "Beløp kan ikke ha mer enn to desimaler."))
