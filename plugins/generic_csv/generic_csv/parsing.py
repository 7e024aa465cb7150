"""Reading the values of real-world CSV exports: text encoding, delimiter, amounts and dates.

Nothing here guesses. A value that could mean two different things is an error unless the file
as a whole settles which (see :func:`detect_decimal_mark`). Every failure is a
:class:`ValueProblem` whose text is the reason, phrased to follow the quoted value, e.g.
``'12,3x'`` + ``is not an amount``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

#: The delimiters we accept, in order of preference when the evidence is tied.
DELIMITERS: tuple[str, ...] = (";", "\t", ",")

#: Currencies whose amounts may carry the affix ``kr``/``kr.``.
KRONE_CURRENCIES: frozenset[str] = frozenset({"DKK", "NOK", "SEK", "ISK"})


class ValueProblem(ValueError):
    """A value (or a whole file) cannot be read. ``str()`` is the reason."""


# --------------------------------------------------------------------------- encoding


def decode(data: bytes) -> str:
    """Decode a file's bytes: UTF-8 (BOM or not) when they are valid UTF-8, else Windows-1252.

    Strict UTF-8 is tried first because Windows-1252 accepts almost any byte sequence, while
    text in Windows-1252 with any letter outside ASCII (æ, ø, å) is practically never valid
    UTF-8. A UTF-16 byte order mark (Excel's "Unicode text" export) is honoured too.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueProblem(
                "starts with a UTF-8 byte order mark but is not valid UTF-8"
                f" (byte offset {exc.start + len(codecs.BOM_UTF8)})"
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueProblem(
                f"starts with a UTF-16 byte order mark but is not valid UTF-16 (offset {exc.start})"
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValueProblem(
            f"is neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02X}"
            f" at offset {exc.start})"
        ) from None


# --------------------------------------------------------------------------- delimiter

_SEP_HINT = re.compile(r'"?sep=(.)"?[;,\t]*')


def sep_hint(first_line: str) -> str | None:
    """The delimiter named by an Excel ``sep=;`` first line, or None if the line is not one."""
    match = _SEP_HINT.fullmatch(first_line.rstrip("\r\n"))
    if match and match[1] in DELIMITERS:
        return match[1]
    return None


def _width(line: str, delimiter: str) -> int:
    return len(next(csv.reader([line], delimiter=delimiter), []))


def detect_delimiter(lines: Sequence[str]) -> str:
    """Pick the delimiter of a file from its first non-blank lines (header first).

    A candidate must split the header into at least two columns. Among those, candidates that
    split every sample line into the header's width are preferred; :class:`csv.Sniffer`
    (restricted to ``;``, TAB and ``,``) breaks the tie, and failing that the candidate that
    appears most often in the header line wins. A one-column file reads the same with any
    delimiter, so it gets ``,``.
    """
    if not lines:
        return ","
    header, sample = lines[0], lines[1:]
    widths = {d: _width(header, d) for d in DELIMITERS}
    candidates = [d for d in DELIMITERS if widths[d] > 1]
    if not candidates:
        return ","
    consistent = [d for d in candidates if all(_width(line, d) == widths[d] for line in sample)]
    try:
        sniffed: str | None = (
            csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
        )
    except csv.Error:
        sniffed = None
    for group in (consistent, candidates):
        if sniffed in group:
            return sniffed
        if group:
            return max(group, key=lambda d: widths[d])  # max keeps the first on ties
    return ","  # unreachable: candidates is not empty


# --------------------------------------------------------------------------- amounts

#: An amount: optional sign, optional currency affix (``kr``, ``kr.`` or a three-letter code)
#: before or after the number; the minus may trail (``12,00-``, as some Danish systems write).
_AMOUNT = re.compile(
    r"""(?P<lead>[-+\u2212]?)\s*
        (?:(?P<pre>kr\.?|[a-z]{3})\s*)?
        (?P<lead2>[-+\u2212]?)\s*
        (?P<body>[0-9](?:[0-9.,\s]*[0-9])?)
        (?P<trail2>[-\u2212]?)
        \s*(?:(?P<post>kr\.?|[a-z]{3}))?
        \s*(?P<trail>[-\u2212]?)""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class DecimalMark:
    """How a file writes its amounts: which decimal mark, or why that is not known.

    ``mark`` is ``","``, ``"."`` or None (not settled by the file; ``reason`` says why).
    """

    mark: str | None
    reason: str = ""


UNDECIDED = DecimalMark(None, "no amount in the file shows which decimal mark it uses")


@dataclass(frozen=True)
class _Reading:
    """The digits of an amount's body, read one way.

    ``proves`` is the decimal mark this spelling shows the file uses (``1.234,50`` proves ``,``),
    ``ambiguous`` the separator of a spelling like ``1,234`` that reads either way.
    """

    integer: str
    fraction: str
    proves: str | None
    ambiguous: str | None = None


_WHITESPACE = re.compile(r"\s")
_DIGITS = re.compile(r"[0-9]+")
_SPACE_GROUPED = re.compile(r"([0-9]{1,3}(?: [0-9]{3})+)(?:([.,])([0-9]+))?")
# decimal mark → the spelling of a number grouped by the other mark with a fraction
_GROUPED_WITH_FRACTION = {
    ",": re.compile(r"([0-9]{1,3}(?:\.[0-9]{3})+),([0-9]+)"),
    ".": re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+)\.([0-9]+)"),
}
# thousands separator → a whole number grouped by it
_GROUPED = {
    ",": re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"),
    ".": re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+"),
}


def _read_body(body: str) -> _Reading:
    # Called for every amount cell twice (decimal-mark detection, then parsing): the
    # patterns are compiled once, and the common plain spelling returns first.
    if _DIGITS.fullmatch(body):
        return _Reading(body, "", None)
    text = _WHITESPACE.sub(" ", body)
    if " " in text:  # spaces group thousands; the other mark, if any, is the decimal mark
        match = _SPACE_GROUPED.fullmatch(text)
        if not match:
            raise ValueProblem("is not an amount (badly placed spaces or separators)")
        return _Reading(match[1].replace(" ", ""), match[3] or "", match[2])
    if "," in text and "." in text:  # the last one is the decimal mark
        mark = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if mark == "," else ","
        match = _GROUPED_WITH_FRACTION[mark].fullmatch(text)
        if not match:
            raise ValueProblem("is not an amount (badly placed thousands or decimal separators)")
        return _Reading(match[1].replace(group, ""), match[2], mark)
    sep = "," if "," in text else "."
    other = "." if sep == "," else ","
    if text.count(sep) > 1:  # 1.234.567: only thousands separators
        if not _GROUPED[sep].fullmatch(text):
            raise ValueProblem("is not an amount (badly placed thousands separators)")
        return _Reading(text.replace(sep, ""), "", other)
    integer, fraction = text.split(sep)
    if len(fraction) != 3 or len(integer) > 3 or integer.startswith("0"):
        return _Reading(integer, fraction, sep)  # cannot be a thousands group
    return _Reading(integer, fraction, None, ambiguous=sep)


def _match_amount(raw: str) -> re.Match[str]:
    match = _AMOUNT.fullmatch(raw.strip())
    if not match:
        raise ValueProblem("is not an amount")
    return match


def detect_decimal_mark(values: Iterable[str]) -> DecimalMark:
    """Decide a file's decimal mark from all its amount cells.

    A value proves the mark when its spelling allows only one reading: ``12,50``, ``1.234,5``,
    ``1 234,50`` or ``1.234.567`` prove ``,``; ``12.50``, ``1,234.5`` or ``1,234,567`` prove ``.``.
    ``1,234`` and ``1.234`` prove nothing. If the proofs agree, that is the file's mark; if
    there are none, or they disagree, the mark is undecided and ambiguous values are errors.
    Values that are not amounts at all are skipped here (parsing reports them).
    """
    marks: set[str] = set()
    for value in values:
        try:
            reading = _read_body(_match_amount(value)["body"])
        except ValueProblem:
            continue
        if reading.proves:
            marks.add(reading.proves)
    if len(marks) == 1:
        return DecimalMark(marks.pop())
    if marks:
        return DecimalMark(None, "the file's amounts use both ',' and '.' as decimal mark")
    return UNDECIDED


def parse_amount(raw: str, decimal_mark: DecimalMark = UNDECIDED) -> tuple[Decimal, str | None]:
    """Parse an amount exactly into a Decimal; return it and its currency affix, if any.

    Accepts a decimal comma or point, thousands separators (``.``, ``,``, space, non-breaking
    space), a leading ``-``/``+``/``−`` or a trailing ``-``, and one currency affix before or
    after the number: ``kr``/``kr.`` (returned as ``"KR"``) or a three-letter code (returned
    upper-cased), which the caller must check against the row's currency. A spelling that
    reads two ways (``1,234``) is resolved by ``decimal_mark`` or refused.
    """
    match = _match_amount(raw)
    signs = [s for s in match.group("lead", "lead2", "trail2", "trail") if s]
    if len(signs) > 1:
        raise ValueProblem("is not an amount (more than one sign)")
    if match["pre"] and match["post"]:
        raise ValueProblem("is not an amount (two currency marks)")
    affix = match["pre"] or match["post"]
    currency = None
    if affix:
        currency = "KR" if affix.lower().startswith("kr") else affix.upper()
    reading = _read_body(match["body"])
    integer, fraction = reading.integer, reading.fraction
    if reading.ambiguous:
        sep = reading.ambiguous
        if decimal_mark.mark is None:
            raise ValueProblem(
                f"is ambiguous: '{sep}' may be a thousands separator or the decimal mark,"
                f" and {decimal_mark.reason}"
            )
        if decimal_mark.mark != sep:
            integer, fraction = integer + fraction, ""
    sign = "-" if signs and signs[0] != "+" else ""
    text = f"{sign}{integer}.{fraction}" if fraction else f"{sign}{integer}"
    return Decimal(text), currency


# --------------------------------------------------------------------------- dates

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DMY_DATE = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{4})")

DATE_FORMATS = "yyyy-mm-dd, dd-mm-yyyy, dd.mm.yyyy or dd/mm/yyyy"


def parse_date(raw: str) -> dt.date:
    """Parse ``yyyy-mm-dd``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` or ``dd/mm/yyyy`` (day first)."""
    text = raw.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _DMY_DATE.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    else:
        raise ValueProblem(f"is not a date (use {DATE_FORMATS})")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(f"is not a valid date ({exc})") from None


# --------------------------------------------------------------------------- languages

_LANGUAGE_NAMES = {
    "dansk": "da",
    "danish": "da",
    "norsk": "nb",
    "bokmål": "nb",
    "bokmal": "nb",
    "norwegian": "nb",
    "nynorsk": "nn",
    "english": "en",
    "engelsk": "en",
    "svensk": "sv",
    "swedish": "sv",
    "deutsch": "de",
    "tysk": "de",
    "german": "de",
}


def parse_language(raw: str) -> str:
    """An ISO 639-1 code from ``da``, ``DA``, ``da-DK``, ``Dansk``, ``norsk`` ...

    ``no`` (Norwegian) becomes ``nb``, the written standard the hub's letters use.
    """
    text = raw.strip().casefold()
    if match := re.fullmatch(r"([a-z]{2})(?:[-_][a-z]{2})?", text):
        code = match[1]
        return "nb" if code == "no" else code
    if text in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text]
    raise ValueProblem("is not a language (use an ISO 639-1 code like da, nb or en)")
