"""The invoice write endpoints of the fake e-conomic server: ``POST /invoices/drafts``, ``POST
/invoices/booked``, ``DELETE /invoices/drafts/{n}``, and the body validation they share with
``POST /journals/{n}/vouchers`` (:mod:`hub.testing.fakes.economic.vouchers`). See
:mod:`hub.testing.fakes.economic` for what is faithful and what is simplified.

Bodies are checked the way the schemas and [S1]/[S2] describe; what fails is answered 400
"Validation error." with e-conomic's *annotated* ``errors`` object, which mirrors the payload
(``{"lines": [{"arrayIndex": 0, "unitNetPrice": {"errors": [{...}]}}]}``) [S1 "Annotated
errors"]. Error codes are given where a source names them (``E06000`` does not exist, ``E04500``
no identifier, ``E04730`` quantity without product, ``E04740`` too many decimals, ``E04042``
due date needed); elsewhere the error carries no ``errorCode`` (S1: "or a subset thereof").
Unknown properties and read-only ones are ignored, ``null`` is rejected [S2].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from hub.testing.fakes.economic.model import (
    DKK_PER_100,
    RATE_PLACES,
    VAT_ZONES,
    Agreement,
    ApiError,
    BookedInvoice,
    DraftInvoice,
    Result,
)
from hub.testing.fakes.economic.render import draft_json, invoice_json
from hub.testing.fakes.money import HUNDRED, ZERO, money
from hub.testing.fakes.wire import dumps

__all__ = [
    "Errors",
    "Reader",
    "book_invoice",
    "create_draft",
    "delete_draft",
    "json_type",
    "read_currency",
    "reject_nulls",
]

Path = tuple[str | int, ...]
_MISSING = object()
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_RE = re.compile(r"[a-zA-Z]{3}")


class Errors:
    """Collects validation errors by payload path; :meth:`check` raises the annotated 400."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, dict[str, object]]] = []

    def add(
        self,
        path: Path,
        message: str,
        *,
        code: str | None = None,
        value: object = _MISSING,
        hint: str = "Please check your request data.",
    ) -> None:
        error: dict[str, object] = {}
        if code:
            error["errorCode"] = code
        error["message"] = message
        if value is not _MISSING and not isinstance(value, dict | list):
            error["value"] = value
        error["developerHint"] = hint
        self.items.append((path, error))

    def check(self) -> None:
        if not self.items:
            return
        tree: dict[str | int, Any] = {}
        for path, error in self.items:
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("errors", []).append(error)
        raise ApiError(
            400,
            {
                "message": "Validation error.",
                "developerHint": "Inspect validation errors and correct your request.",
                "errors": _annotated(tree),
            },
        )


def _annotated(node: dict[str | int, Any]) -> object:
    """The tree of errors as e-conomic writes it: array items as ``{"arrayIndex": i, ...}``."""
    indexes = sorted(k for k in node if isinstance(k, int))
    if indexes:
        return [{"arrayIndex": i, **_as_dict(_annotated(node[i]))} for i in indexes]
    return {k: v if k == "errors" else _annotated(v) for k, v in node.items()}


def _as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {"items": value}


def json_type(value: object) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, Decimal):
        return "Number"
    if isinstance(value, str):
        return "String"
    return "Array" if isinstance(value, list) else "Object"


def reject_nulls(value: object, path: Path, errors: Errors) -> None:
    """e-conomic rejects ``null`` anywhere: omit a property instead [S1 "Nulling"; S2]."""
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                errors.add((*path, key), "Expected a value but got Null; omit the property.")
            else:
                reject_nulls(item, (*path, key), errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reject_nulls(item, (*path, i), errors)


class Reader:
    """Typed reads from a JSON object, recording errors under ``path``."""

    def __init__(self, doc: Mapping[str, Any], path: Path, errors: Errors) -> None:
        self.doc = doc
        self.path = path
        self.errors = errors

    def _wrong(self, key: str, want: str, value: object) -> None:
        self.errors.add(
            (*self.path, key), f"Expected {want} but got {json_type(value)}.", value=value
        )

    def _typed(self, key: str, required: bool, kinds: type | tuple[type, ...], want: str) -> Any:
        """``doc[key]`` if it is one of ``kinds`` (a bool is never a number), else
        :data:`_MISSING`; absent, null (when ``required``) and the wrong type are errors."""
        value = self.doc.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.errors.add((*self.path, key), f"Property {key} is required.")
            return _MISSING
        if not isinstance(value, kinds) or isinstance(value, bool):
            self._wrong(key, want, value)
            return _MISSING
        return value

    def obj(self, key: str, *, required: bool = False) -> Reader | None:
        value = self._typed(key, required, dict, "Object")
        if value is _MISSING:
            return None
        return Reader(value, (*self.path, key), self.errors)

    def text(self, key: str, *, required: bool = False, max_length: int = 0) -> str | None:
        value = self._typed(key, required, str, "String")
        if value is _MISSING:
            return None
        if max_length and len(value) > max_length:
            self.errors.add(
                (*self.path, key), f"{key} is longer than {max_length} characters.", value=value
            )
            return None
        text: str = value
        return text

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self._typed(key, required, (int, Decimal), "Integer")
        if value is _MISSING:
            return None
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                self._wrong(key, "Integer", value)
                return None
            value = int(value)
        if minimum is not None and value < minimum:
            self.errors.add(
                (*self.path, key),
                f"Integer {value} is less than minimum value of {minimum}.",
                value=value,
            )
            return None
        integer: int = value
        return integer

    def number(self, key: str, *, required: bool = False, places: int = 2) -> Decimal | None:
        value = self._typed(key, required, (int, Decimal), "Number")
        if value is _MISSING:
            return None
        number = Decimal(value)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.errors.add(
                (*self.path, key),
                f"{key} scale cannot be greater then {places} decimal places.",
                code="E04740",
                value=value,
                hint="Please check the format of your data.",
            )
            return None
        return number

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            if not _DATE_RE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.errors.add((*self.path, key), f"{key} must be a date (YYYY-MM-DD).", value=value)
            return None

    def ref(self, key: str, id_key: str, collection: str, *, required: bool = False) -> int | None:
        """A reference ``{"<id_key>": n}`` or ``{"self": ".../<collection>/n"}`` [S1, S2]."""
        sub = self.obj(key, required=required)
        if sub is None:
            return None
        if id_key in sub.doc:
            return sub.integer(id_key, minimum=1)
        link = sub.doc.get("self")
        if isinstance(link, str):
            match = re.search(rf"/{re.escape(collection)}/(\d+)/?$", link)
            if match:
                return int(match.group(1))
        self.errors.add(
            (*self.path, key),
            f"No identifiers present on {key}. Please include either a self link or a {id_key}.",
            code="E04500",
            hint=f"Find a list of resources at https://restapi.e-conomic.com/{collection}.",
        )
        return None

    def missing(self, key: str, what: str, value: object, collection: str) -> None:
        self.errors.add(
            (*self.path, key),
            f"{what} does not exist.",
            code="E06000",
            value=value,
            hint=f"Find a list of resources at https://restapi.e-conomic.com/{collection}.",
        )


def _body_object(body: object, errors: Errors) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            400,
            {
                "message": "The request body must be a JSON object.",
                "developerHint": "Send the resource as a JSON object with Content-Type: "
                "application/json.",
            },
        )
    reject_nulls(body, (), errors)
    return body


def read_currency(reader: Reader, key: str, errors: Errors, *, required: bool) -> str | None:
    code = reader.text(key, required=required)
    if code is None:
        return None
    if not _CURRENCY_RE.fullmatch(code) or code.upper() not in DKK_PER_100:
        reader.missing(key, "currency", code, "currencies")
        return None
    return code.upper()


# --- POST /invoices/drafts ----------------------------------------------------------------------


def create_draft(agreement: Agreement, body: object, base: str) -> Result:
    """Create a draft invoice: validate like ``invoices.drafts.post.schema.json``, price the
    lines (e-conomic computes every total [S2]), answer 201 with the draft and its lines."""
    errors = Errors()
    doc = _body_object(body, errors)
    r = Reader(doc, (), errors)
    issued = r.day("date", required=True)
    currency = read_currency(r, "currency", errors, required=True)
    customer_number = r.ref("customer", "customerNumber", "customers", required=True)
    customer = agreement.customers.get(customer_number) if customer_number else None
    if customer_number and customer is None:
        r.missing("customer", "customer", customer_number, "customers")
    layout = r.ref("layout", "layoutNumber", "layouts", required=True)
    if layout and layout not in agreement.layouts:
        r.missing("layout", "layout", layout, "layouts")
    terms_number = r.ref("paymentTerms", "paymentTermsNumber", "payment-terms", required=True)
    terms = agreement.payment_terms.get(terms_number) if terms_number else None
    if terms_number and terms is None:
        r.missing("paymentTerms", "paymentTerms", terms_number, "payment-terms")
    due_requested = r.day("dueDate")
    rate = r.number("exchangeRate", places=6)
    recipient: dict[str, object] = {}
    vat_zone: int | None = None
    rec = r.obj("recipient", required=True)
    if rec is not None:
        name = rec.text("name", required=True, max_length=250)
        if name is not None:
            recipient["name"] = name
        for key, length in (("address", 250), ("zip", 50), ("city", 250), ("country", 50)):
            value = rec.text(key, max_length=length)
            if value is not None:
                recipient[key] = value
        for key, length in (("ean", 13), ("publicEntryNumber", 40), ("cvr", 40)):
            value = rec.text(key, max_length=length)
            if value is not None:
                recipient[key] = value
        vat_zone = rec.ref("vatZone", "vatZoneNumber", "vat-zones", required=True)
        if vat_zone is not None and vat_zone not in VAT_ZONES:
            rec.missing("vatZone", "vatZone", vat_zone, "vat-zones")
            vat_zone = None
        if vat_zone is not None:
            recipient["vatZoneNumber"] = vat_zone
    notes: dict[str, str] = {}
    notes_reader = r.obj("notes")
    if notes_reader is not None:
        for key, length in (("heading", 250), ("textLine1", 1000), ("textLine2", 1000)):
            value = notes_reader.text(key, max_length=length)
            if value is not None:
                notes[key] = value
    references: dict[str, object] = {}
    refs = r.obj("references")
    if refs is not None:
        other = refs.text("other", max_length=250)
        if other is not None:
            references["other"] = other
        for key, id_key, coll in (
            ("salesPerson", "employeeNumber", "employees"),
            ("vendorReference", "employeeNumber", "employees"),
            ("customerContact", "customerContactNumber", "contacts"),
        ):
            number = refs.ref(key, id_key, coll)
            if number is not None:
                references[key] = {id_key: number}
    extra: dict[str, object] = {
        k: doc[k] for k in ("delivery", "deliveryLocation", "project") if k in doc
    }
    vat_rate = agreement.vat_rate if vat_zone == 1 else Decimal(0)
    lines = _draft_lines(agreement, r, errors, vat_rate)
    if terms is not None and terms.kind == "dueDate" and due_requested is None:
        errors.add(
            ("dueDate",),
            "dueDate is mandatory when the payment terms are of type dueDate.",
            code="E04042",
        )
    errors.check()
    assert issued and currency and customer and layout and terms and vat_zone
    due = terms.due(issued, due_requested)
    assert due is not None
    net = money(sum((_amount(line, "totalNetAmount") for line in lines), ZERO))
    vat = money(sum((_amount(line, "vatAmount") for line in lines), ZERO))
    draft = DraftInvoice(
        draft_invoice_number=agreement.take_draft_number(),
        customer=customer,
        date=issued,
        due_date=due,
        currency=currency,
        exchange_rate=rate.quantize(RATE_PLACES) if rate else agreement.rate(currency),
        payment_terms=terms,
        layout_number=layout,
        recipient=recipient,
        lines=lines,
        net_amount=net,
        vat_amount=vat,
        gross_amount=money(net + vat),
        notes=notes or None,
        references=references or None,
        extra=extra or None,
    )
    agreement.drafts[draft.draft_invoice_number] = draft
    return Result(
        201,
        dumps(draft_json(draft, base, single=True)),
        {"Location": f"{base}/invoices/drafts/{draft.draft_invoice_number}"},
    )


def _draft_lines(
    agreement: Agreement, r: Reader, errors: Errors, vat_rate: Decimal
) -> list[dict[str, object]]:
    raw = r.doc.get("lines", [])
    if not isinstance(raw, list):
        errors.add(("lines",), f"Expected Array but got {json_type(raw)}.")
        return []
    lines: list[dict[str, object]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.add(("lines", i), f"Expected Object but got {json_type(item)}.")
            continue
        line = Reader(item, ("lines", i), errors)
        out: dict[str, object] = {
            "lineNumber": line.integer("lineNumber", minimum=1) or i + 1,
            "sortKey": line.integer("sortKey", minimum=1) or i + 1,
        }
        description = line.text("description", max_length=2500)
        if description is not None:
            out["description"] = description
        unit = line.ref("unit", "unitNumber", "units")
        if unit is not None:
            out["unit"] = {"unitNumber": unit}
        product: str | None = None
        product_reader = line.obj("product")
        if product_reader is not None:
            product = product_reader.text("productNumber", max_length=25)
            link = product_reader.doc.get("self")
            if product is None and isinstance(link, str) and "/products/" in link:
                product = link.rstrip("/").rsplit("/", 1)[1]
            if product is None:
                errors.add(
                    ("lines", i, "product"),
                    "No identifiers present on product. Please include either a self link or a "
                    "productNumber.",
                    code="E04500",
                    hint="Find a list of resources at https://restapi.e-conomic.com/products.",
                )
            elif product not in agreement.products:
                line.missing("product", "product", product, "products")
                product = None
        quantity = line.number("quantity")
        price = line.number("unitNetPrice")
        discount = line.number("discountPercentage") or ZERO
        cost = line.number("unitCostPrice")
        if product_reader is not None and quantity is None and "quantity" not in item:
            errors.add(
                ("lines", i, "quantity"),
                "Property quantity must have a value when product is set.",
                code="E04730",
            )
        if product_reader is None and ("quantity" in item or "unitNetPrice" in item):
            errors.add(
                ("lines", i, "product"),
                "A line with quantity or unitNetPrice needs a product.",
                code="E04500",
                hint="Find a list of resources at https://restapi.e-conomic.com/products.",
            )
        if product_reader is None and quantity is None and price is None:
            lines.append(out)  # a text line: no product, no amounts
            continue
        if product is not None:
            out["product"] = {"productNumber": product}
        qty = quantity if quantity is not None else ZERO
        unit_price = price if price is not None else ZERO
        total = money(qty * unit_price * (HUNDRED - discount) / HUNDRED)
        out["quantity"] = money(qty)
        out["unitNetPrice"] = money(unit_price)
        out["discountPercentage"] = money(discount)
        out["unitCostPrice"] = money(cost or ZERO)
        out["totalNetAmount"] = total
        out["vatRate"] = (vat_rate * HUNDRED).quantize(RATE_PLACES)
        vat = money(total * vat_rate)
        out["vatAmount"] = vat
        lines.append(out)
    return lines


def _amount(line: Mapping[str, object], key: str) -> Decimal:
    value = line.get(key, ZERO)
    assert isinstance(value, Decimal)
    return value


def delete_draft(agreement: Agreement, number: int, base: str) -> Result:
    """``DELETE /invoices/drafts/{n}``: 200 with a status body, not 204 [S2]."""
    agreement.drafts.pop(number)
    body = {
        "message": "Deleted invoice.",
        "deletedCount": 1,
        "deletedItems": [
            {"draftInvoiceNumber": number, "self": f"{base}/invoices/drafts/{number}"}
        ],
    }
    return Result(200, dumps(body), {})


# --- POST /invoices/booked ----------------------------------------------------------------------


def book_invoice(agreement: Agreement, body: object, base: str) -> Result:
    """Book a draft (``{"draftInvoice": {"draftInvoiceNumber": n}}``): the draft disappears, the
    booked invoice (with lines) is answered 201 [S1; S2]."""
    errors = Errors()
    doc = _body_object(body, errors)
    r = Reader(doc, (), errors)
    number = r.ref("draftInvoice", "draftInvoiceNumber", "invoices/drafts", required=True)
    draft = agreement.drafts.get(number) if number else None
    if number and draft is None:
        r.missing("draftInvoice", "draftInvoice", number, "invoices/drafts")
    book_with = r.integer("bookWithNumber", minimum=1)
    if book_with is not None and book_with in agreement.booked:
        errors.add(
            ("bookWithNumber",),
            f"Booked invoice number {book_with} is already in use.",
            value=book_with,
        )
    send_by = r.text("sendBy")
    if send_by is not None and send_by not in ("none", "EAN", "Email"):
        errors.add(
            ("sendBy",),
            "sendBy must be one of: none, EAN, Email (case-sensitive).",
            value=send_by,
        )
    errors.check()
    assert draft is not None
    invoice: BookedInvoice = agreement.book(draft, book_with)
    n = invoice.booked_invoice_number
    return Result(
        201,
        dumps(invoice_json(invoice, base, "single")),
        {"Location": f"{base}/invoices/booked/{n}"},
    )
