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


class EncodingProblem(ValueProblem):
    """The file's bytes are not text in the encoding it declares or was detected as.

    ``offset`` is the byte offset of the first bad byte (for :func:`line_of`).
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


#: How many bytes one step of a streaming decode takes.
CHUNK = 1 << 20

#: Bytes Windows-1252 leaves undefined.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")

#: A multi-byte UTF-8 sequence. In real Windows-1252 text these byte pairs are letter pairs
#: like "Ã¸" or "Ã¥", which no Danish or Norwegian export contains: they are UTF-8's æ, ø, å.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def line_of(data: bytes, offset: int, codec: str = "utf-8") -> int:
    """The physical line (from 1) holding byte ``offset`` of ``data``."""
    if codec.startswith("utf-16"):
        text = data[: offset - offset % 2].decode(codec, errors="replace")
        return text.count("\n") + 1
    return data.count(b"\n", 0, offset) + 1


def _first_decode_error(data: bytes, codec: str) -> UnicodeDecodeError | None:
    """The first decode error of ``data`` in ``codec`` (offsets absolute), decoding in chunks
    so that no copy of the whole file as text is ever made."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)
    for start in range(0, len(data) or 1, CHUNK):
        chunk = view[start : start + CHUNK]
        final = start + CHUNK >= len(data)
        try:
            decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # exc.object is what the decoder held (bytes pending from the last chunk + chunk).
            at = start + len(chunk) - len(exc.object) + exc.start
            return UnicodeDecodeError(exc.encoding, data, at, at + 1, exc.reason)
    return None


def _bad_bytes(data: bytes, at: int, name: str) -> str:
    shown = " ".join(f"0x{b:02X}" for b in data[at : at + 4])
    return f"has bytes that are not valid {name} ({shown}... at byte offset {at})"


def detect_encoding(data: bytes) -> str:
    """The codec of a file's bytes: ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``cp1252``.

    A UTF-8 or UTF-16 byte order mark declares the encoding, and every byte must then be valid
    in it. Without one, bytes that are valid UTF-8 are UTF-8 (strict UTF-8 is tried first
    because Windows-1252 accepts almost any byte sequence, while Windows-1252 text with any
    letter outside ASCII is practically never valid UTF-8); otherwise Windows-1252, unless the
    file also holds UTF-8 sequences: such a file mixes the two encodings and is refused, since
    either reading would store mojibake.

    The whole file is checked, in chunks, without making a text copy of it.

    :raises EncodingProblem: the reason, phrased to follow "the file", and the byte offset.
    """
    if data.startswith(codecs.BOM_UTF8):
        error = _first_decode_error(data, "utf-8-sig")
        if error is not None:
            raise EncodingProblem(
                "starts with a UTF-8 byte order mark but "
                + _bad_bytes(data, error.start, "UTF-8")
                + " (is part of it Windows-1252 text?)",
                error.start,
            )
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        error = _first_decode_error(data, "utf-16")
        if error is not None:
            raise EncodingProblem(
                "starts with a UTF-16 byte order mark but is not valid UTF-16"
                f" ({error.reason} at byte offset {error.start})",
                error.start,
            )
        return "utf-16"
    error = _first_decode_error(data, "utf-8")
    if error is None:
        return "utf-8"
    bad = error.start
    mixed = _UTF8_SEQUENCE.search(data)
    if mixed is not None:
        sample = mixed[0].decode("utf-8")
        raise EncodingProblem(
            "mixes two encodings: it "
            + _bad_bytes(data, bad, "UTF-8")
            + f", but line {line_of(data, mixed.start())} has UTF-8 text ({sample!r});"
            " reading it either way would garble letters like æ, ø and å. Export it again"
            " in one encoding",
            bad,
        )
    undefined = _CP1252_UNDEFINED.search(data)
    if undefined is not None:
        at = undefined.start()
        raise EncodingProblem(
            f"is neither UTF-8 nor Windows-1252 text (byte 0x{data[at]:02X} at byte offset"
            f" {at} is not valid in either)",
            at,
        )
    return "cp1252"


def decode(data: bytes) -> str:
    """Decode a whole file's bytes as :func:`detect_encoding` decides (tests, small files)."""
    return data.decode(detect_encoding(data))


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
    return decide_decimal_mark(marks)


class AmbiguousAmount(ValueProblem):
    """An amount like ``1,234`` that reads two ways, in a file whose decimal mark is not
    (yet) known."""


def parse_amount(raw: str, decimal_mark: DecimalMark = UNDECIDED) -> tuple[Decimal, str | None]:
    """Parse an amount exactly into a Decimal; return it and its currency affix, if any.

    Accepts a decimal comma or point, thousands separators (``.``, ``,``, space, non-breaking
    space), a leading ``-``/``+``/``−`` or a trailing ``-``, and one currency affix before or
    after the number: ``kr``/``kr.`` (returned as ``"KR"``) or a three-letter code (returned
    upper-cased), which the caller must check against the row's currency. A spelling that
    reads two ways (``1,234``) is resolved by ``decimal_mark`` or refused
    (:class:`AmbiguousAmount`).
    """
    number, currency, _ = read_amount(raw, decimal_mark)
    return number, currency


def read_amount(
    raw: str, decimal_mark: DecimalMark = UNDECIDED
) -> tuple[Decimal, str | None, str | None]:
    """:func:`parse_amount`, plus the decimal mark the spelling proves (None if it proves
    none; see :func:`detect_decimal_mark`), so one pass over a file can both parse its
    amounts and learn its mark."""
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
            raise AmbiguousAmount(
                f"is ambiguous: '{sep}' may be a thousands separator or the decimal mark,"
                f" and {decimal_mark.reason}"
            )
        if decimal_mark.mark != sep:
            integer, fraction = integer + fraction, ""
    sign = "-" if signs and signs[0] != "+" else ""
    text = f"{sign}{integer}.{fraction}" if fraction else f"{sign}{integer}"
    return Decimal(text), currency, reading.proves


def decide_decimal_mark(marks: set[str]) -> DecimalMark:
    """The file's decimal mark from the marks its amounts prove (see
    :func:`detect_decimal_mark`)."""
    if len(marks) == 1:
        return DecimalMark(next(iter(marks)))
    if marks:
        return DecimalMark(None, "the file's amounts use both ',' and '.' as decimal mark")
    return UNDECIDED


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
