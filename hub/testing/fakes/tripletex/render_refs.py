"""JSON rendering of the fake Tripletex's reference records (see
:mod:`hub.testing.fakes.tripletex.render`): accounts, VAT types, currencies, the country, the
company and its API employee, ``>whoAmI``, session tokens and open-post sums per account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hub.testing.fakes.money import ZERO
from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.fields import Link, Shaper, renders
from hub.testing.fakes.tripletex.model import (
    CURRENCIES,
    NORWAY,
    VAT_TYPES,
    Account,
    Posting,
    Session,
    VatType,
)

__all__ = [
    "CompanyRef",
    "CountryRef",
    "CurrencyRef",
    "EmployeeRef",
    "LedgerSum",
    "WhoAmI",
    "currency_link",
    "norway_link",
    "vat_link",
]

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CurrencyRef:
    code: str


@dataclass(frozen=True, slots=True)
class CountryRef:
    pass


@dataclass(frozen=True, slots=True)
class _OfCompany:
    """A record the fake derives from its company (each kind rendered as its own model)."""

    company: Company


class EmployeeRef(_OfCompany):
    __slots__ = ()


class CompanyRef(_OfCompany):
    __slots__ = ()


class WhoAmI(_OfCompany):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class LedgerSum:
    """A ``LedgerAccount`` row of ``GET /ledger/openPost``: one account's open posts."""

    account: Account
    postings: list[Posting]


NORWAY_REF = CountryRef()


def norway_link() -> Link:
    return Link("country", NORWAY[0], NORWAY_REF)


def currency_link(code: str) -> Link:
    return Link("currency", CURRENCIES[code][0], CurrencyRef(code))


def vat_link(vat_type: VatType | None) -> Link:
    vt = vat_type or VAT_TYPES[0]
    return Link("ledger/vatType", vt.id, vt)


@renders(Account, "AccountDTO")
def _account(a: Account, s: Shaper) -> Doc:
    vat = VAT_TYPES[a.vat_type_id]
    return {
        **s.head("ledger/account", a.id, a.version),
        "number": a.number,
        "numberPretty": str(a.number),
        "name": a.name,
        "description": "",
        "type": a.type,
        "legalVatTypes": [vat_link(vat)],
        "ledgerType": a.ledger_type,
        "balanceGroup": "Ikke i en saldogruppe.",
        "vatType": vat_link(vat),
        "vatLocked": a.vat_type_id == 0,
        "currency": currency_link("NOK"),
        "isCloseable": a.is_closeable,
        "isApplicableForSupplierInvoice": False,
        "requireReconciliation": a.is_bank_account,
        "isInactive": False,
        "isBankAccount": a.is_bank_account,
        "isInvoiceAccount": a.is_bank_account,
        "bankAccountNumber": a.bank_account_number,
        "bankAccountCountry": norway_link() if a.is_bank_account else None,
        "bankName": "",
        "bankAccountIBAN": "",
        "bankAccountSWIFT": "",
        "saftCode": str(a.number)[:2],
        "groupingCode": str(a.number),
        "displayName": f"{a.number} {a.name}",
        "requiresDepartment": False,
        "requiresProject": False,
        "invoicingDepartment": None,
        "isPostingsExist": False,
        "quantityType1": None,
        "quantityType2": None,
        "department": None,
    }


@renders(VatType, "VatTypeDTO")
def _vat_type(v: VatType, s: Shaper) -> Doc:
    return {
        **s.head("ledger/vatType", v.id),
        "name": v.name,
        "number": v.number,
        "displayName": v.display_name,
        "percentage": v.percentage,
        "deductionPercentage": Decimal(100),
        "parentType": Link("ledger/vatType", 0, VAT_TYPES[0]) if v.id else None,
    }


@renders(CurrencyRef, "CurrencyDTO")
def _currency(c: CurrencyRef, s: Shaper) -> Doc:
    cid, description = CURRENCIES[c.code]
    return {
        **s.head("currency", cid),
        "code": c.code,
        "description": description,
        "factor": 1,
        "displayName": f"{c.code} {description}",
        "isDisabled": False,
    }


@renders(CountryRef, "CountryDTO")
def _country(_: CountryRef, s: Shaper) -> Doc:
    cid, name, alpha2, alpha3, numeric = NORWAY
    return {
        **s.head("country", cid),
        "name": name,
        "displayName": name,
        "isoAlpha2Code": alpha2,
        "isoAlpha3Code": alpha3,
        "isoNumericCode": numeric,
    }


@renders(EmployeeRef, "EmployeeDTO")
def _employee(e: EmployeeRef, s: Shaper) -> Doc:
    c = e.company
    return {
        **s.head("employee", c.employee_id),
        "firstName": "API",
        "lastName": "Integrasjon",
        "displayName": "API Integrasjon",
        "employeeNumber": "",
        "email": "",
        "companyId": c.id,
    }


@renders(CompanyRef, "CompanyDTO")
def _company(ref: CompanyRef, s: Shaper) -> Doc:
    c = ref.company
    return {
        **s.head("company", c.id),
        "name": c.name,
        "displayName": c.name,
        "startDate": date(2020, 1, 1),
        "endDate": None,
        "organizationNumber": c.organization_number,
        "email": "",
        "phoneNumber": "",
        "phoneNumberMobile": "",
        "faxNumber": "",
        "address": None,
        "type": "AS",
        "currency": currency_link(c.currency),
        "accountantOrSimilar": False,
        "companyMigration": "NONE",
        "invoiceShowDeliveryDate": False,
    }


@renders(WhoAmI, "LoggedInUserInfoDTO")
def _who(w: WhoAmI, s: Shaper) -> Doc:
    c = w.company
    return {
        "employeeId": c.employee_id,
        "actualEmployeeId": c.employee_id,
        "employee": Link("employee", c.employee_id, EmployeeRef(c)),
        "companyId": c.id,
        "company": Link("company", c.id, CompanyRef(c)),
        "language": "NO",
        "loggedInWithConnect": False,
        "employeeIsProxy": False,
    }


@renders(Session, "SessionTokenDTO")
def _session(t: Session, s: Shaper) -> Doc:
    return {
        **s.head("token/session", t.id),
        "consumerToken": Link("token/consumer", t.id + 1, None),
        "employeeToken": Link("token/employee", t.id + 2, None),
        "expirationDate": t.expiration,
        "token": t.token,
    }


@renders(LedgerSum, "LedgerAccountDTO")
def _ledger_sum(row: LedgerSum, s: Shaper) -> Doc:
    total = sum((p.amount for p in row.postings), ZERO)
    return {
        "account": Link("ledger/account", row.account.id, row.account),
        "sumAmount": total,
        "currency": currency_link("NOK"),
        "sumAmountCurrency": total,
        "postings": [Link("ledger/posting", p.id, p) for p in row.postings],
    }
