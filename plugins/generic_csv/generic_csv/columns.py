"""Which CSV column holds which field: default header names, aliases and the ``columns`` setting.

Headers are matched after :func:`normalize_header` (case, surrounding and repeated whitespace,
``_``/``-``/``:`` and dots do not matter), so ``Fakturanr.``, ``fakturanr`` and ``FAKTURANR``
are the same header. Each field lists its accepted headers in order of preference: the first
one present in the file wins, so a file with both ``Fakturadato`` and ``Dato`` takes the
invoice date from ``Fakturadato``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hub.errors import SettingsError

INVOICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice_number": (
        "invoice_number",
        "invoice no",
        "invoice",
        "fakturanr",
        "fakturanummer",
        "faktura nr",
        "faktura nummer",
        "faktura",
    ),
    "customer_number": (
        "customer_number",
        "customer no",
        "customer id",
        "kundenr",
        "kundenummer",
        "kunde nr",
        "kunde nummer",
        "kunde id",
        "debitornr",
        "debitornummer",
        "debitor nr",
    ),
    "customer_name": (
        "customer_name",
        "kundenavn",
        "kunde navn",
        "debitornavn",
        "debitor navn",
        "firmanavn",
        "name",
        "navn",
    ),
    "customer_email": (
        "customer_email",
        "customer e mail",
        "kunde e mail",
        "kunde email",
        "kunde e post",
        "e mail",
        "email",
        "e post",
        "epost",
        "mail",
    ),
    "invoice_date": (
        "invoice_date",
        "fakturadato",
        "faktura dato",
        "bilagsdato",
        "date",
        "dato",
    ),
    "due_date": (
        "due_date",
        "forfaldsdato",
        "forfallsdato",
        "forfaldsdag",
        "forfallsdag",
        "forfald",
        "forfall",
        "due",
        "betalingsfrist",
    ),
    "currency": ("currency", "currency code", "valuta", "valutakode", "valuta kode"),
    "net_amount": (
        "net_amount",
        "net",
        "netto",
        "nettobeløb",
        "nettobeløp",
        "netto beløb",
        "netto beløp",
        "beløb ekskl moms",
        "beløb eksl moms",
        "beløp eks mva",
        "beløp ekskl mva",
        "beløp eksl mva",
        "ekskl moms",
        "eks mva",
        "ekskl mva",
        "amount excl vat",
    ),
    "vat_amount": (
        "vat_amount",
        "vat",
        "moms",
        "mva",
        "momsbeløb",
        "mvabeløp",
        "moms beløb",
        "mva beløp",
    ),
    "gross_amount": (
        "gross_amount",
        "gross",
        "brutto",
        "bruttobeløb",
        "bruttobeløp",
        "beløb inkl moms",
        "beløp inkl mva",
        "inkl moms",
        "inkl mva",
        "amount incl vat",
        "total",
        "beløb i alt",
        "beløp i alt",
        "i alt",
        "totalt",
        "fakturabeløb",
        "fakturabeløp",
        "beløb",
        "beløp",
        "amount",
    ),
    "outstanding_amount": (
        "outstanding_amount",
        "outstanding",
        "restbeløb",
        "restbeløp",
        "rest",
        "udestående",
        "utestående",
        "åben saldo",
        "åbent beløb",
        "åpent beløp",
        "open amount",
        "remaining",
    ),
}

INVOICE_REQUIRED: tuple[str, ...] = (
    "invoice_number",
    "customer_number",
    "invoice_date",
    "due_date",
    "gross_amount",
)
INVOICE_AMOUNTS: tuple[str, ...] = (
    "net_amount",
    "vat_amount",
    "gross_amount",
    "outstanding_amount",
)

CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_number": INVOICE_COLUMNS["customer_number"] + ("nummer", "number", "nr", "no"),
    "name": ("name", "navn", "kundenavn", "kunde navn", "customer name", "firmanavn", "firma"),
    "email": ("email", "e mail", "e post", "epost", "mail", "customer email", "kunde email"),
    "address": (
        "address",
        "adresse",
        "address 1",
        "adresse 1",
        "address line 1",
        "gateadresse",
        "gadeadresse",
        "postadresse",
        "street",
    ),
    "postal_code": (
        "postal_code",
        "postal code",
        "postcode",
        "post code",
        "zip",
        "zip code",
        "postnr",
        "postnummer",
        "post nr",
    ),
    "city": ("city", "by", "bynavn", "poststed", "sted", "town", "postdistrikt"),
    "country": ("country", "land", "country code", "landekode", "landkode"),
    "language": ("language", "sprog", "språk", "sprogkode", "språkkode", "language code"),
    "balance": ("balance", "saldo", "restsaldo", "udestående", "utestående", "outstanding"),
    "currency": INVOICE_COLUMNS["currency"],
}

CUSTOMER_REQUIRED: tuple[str, ...] = ("customer_number", "name")

#: Every field name the ``columns`` setting may map.
KNOWN_FIELDS: frozenset[str] = frozenset(INVOICE_COLUMNS) | frozenset(CUSTOMER_COLUMNS)


def normalize_header(header: str) -> str:
    """Fold a header for matching: case, dots, ``_``/``-``/``:`` and runs of whitespace."""
    text = header.replace("\ufeff", "").casefold().replace(".", "")
    return re.sub(r"[\s_\-:]+", " ", text).strip()


def parse_overrides(raw: str | None) -> dict[str, str]:
    """Parse the ``columns`` setting, ``field=Header;field=Header``, into {field: header}.

    :raises SettingsError: an unknown field (named), an entry without ``=``, an empty header,
        or a field given twice.
    """
    overrides: dict[str, str] = {}
    if raw is None:
        return overrides
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, eq, header = part.partition("=")
        name, header = name.strip().lower(), header.strip()
        if not eq:
            raise SettingsError(
                f"setting columns: {part.strip()!r} is not of the form field=Header"
            )
        if name not in KNOWN_FIELDS:
            raise SettingsError(
                f"setting columns: unknown field {name!r}; known fields: {sorted(KNOWN_FIELDS)}"
            )
        if not header:
            raise SettingsError(f"setting columns: field {name!r} is mapped to an empty header")
        if name in overrides:
            raise SettingsError(f"setting columns: field {name!r} is mapped twice")
        overrides[name] = header
    return overrides


@dataclass
class ColumnMap:
    """Where each field is in one file's header (``positions[field]`` = column index)."""

    positions: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: Problems with the header itself: each blocks reading the file.
    problems: list[str] = field(default_factory=list)
    #: Overrides from the ``columns`` setting whose header is not in this file.
    unused_overrides: dict[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """``column gross_amount ("Beløb i alt")``: the field, and the header if it differs."""
        header = self.headers.get(name)
        if header is None or normalize_header(header) == normalize_header(name):
            return f"column {name}"
        return f'column {name} ("{header}")'


def resolve_columns(
    header: Sequence[str],
    fields: Mapping[str, tuple[str, ...]],
    required: Sequence[str],
    overrides: Mapping[str, str],
) -> ColumnMap:
    """Map ``fields`` onto ``header``; a field's override from ``columns`` is tried first.

    An overridden header claims its column before any default alias is looked at, so
    ``net_amount=Brutto`` really reads net amounts from ``Brutto``. An override whose header is
    missing from this file falls back to the defaults and is reported in ``unused_overrides``
    (the ``columns`` setting applies to the invoices and the customers file alike).
    """
    found = ColumnMap()
    where: dict[str, list[int]] = {}
    for index, text in enumerate(header):
        key = normalize_header(text)
        if key:
            where.setdefault(key, []).append(index)
    claimed: set[int] = set()

    def take(name: str, alias: str) -> bool:
        indexes = [i for i in where.get(normalize_header(alias), []) if i not in claimed]
        if len(indexes) > 1:
            shown = ", ".join(f'"{header[i]}" (column {i + 1})' for i in indexes)
            found.problems.append(f"headers {shown} all look like {name}; rename or map one")
            return True
        if indexes:
            found.positions[name] = indexes[0]
            found.headers[name] = header[indexes[0]]
            claimed.add(indexes[0])
            return True
        return False

    mine = {name: text for name, text in overrides.items() if name in fields}
    for name, alias in mine.items():
        if not take(name, alias):
            found.unused_overrides[name] = alias
    for name, aliases in fields.items():
        if name in found.positions:
            continue
        for alias in aliases:
            if take(name, alias):
                break
    for name in required:
        if name not in found.positions:
            looked = ([mine[name]] if name in mine else []) + list(fields[name])
            shown = ", ".join(f'"{a}"' for a in looked[:8])
            found.problems.append(
                f"required column {name} is missing (looked for headers {shown}"
                f"{', ...' if len(looked) > 8 else ''}; map it with the setting columns)"
            )
    return found
