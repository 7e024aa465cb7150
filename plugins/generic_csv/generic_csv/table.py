"""Reading one CSV file into a header and rows, with physical line numbers, and collecting
the problems found in it.

A file is all or nothing: :class:`Problems` collects every bad row (the first
:data:`MAX_SHOWN` are shown) and :meth:`Problems.raise_if_any` raises one
:class:`hub.errors.InvalidDataError` for the whole file, so the core stores nothing from it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from generic_csv.parsing import (
    EncodingProblem,
    detect_delimiter,
    detect_encoding,
    line_of,
    sep_hint,
)
from hub.errors import InvalidDataError
from hub.toolkit import files

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: How many problems one error message lists.
MAX_SHOWN = 20
#: How many non-blank lines the delimiter detection looks at.
SAMPLE_LINES = 50


@dataclass
class Problems:
    """The problems of one file, each at a physical line (the header is line 1)."""

    file_name: str
    items: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self) -> InvalidDataError:
        """One error for all problems: ``where`` is the first one's ``file:line``."""
        items = sorted(self.items, key=lambda item: item[0])
        line, first = items[0]
        rest = [f"{self.file_name}:{n}: {message}" for n, message in items[1:MAX_SHOWN]]
        if len(items) > MAX_SHOWN:
            rest.append(f"... and {len(items) - MAX_SHOWN} more problems")
        if rest:
            first += f"\n({len(items)} problems in this file; nothing from it was read)\n"
            first += "\n".join(rest)
        return InvalidDataError(first, where=f"{self.file_name}:{line}")

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error()


class Row(NamedTuple):
    """One record: the physical line it starts on and its cells, stripped of whitespace.

    A named tuple, not a dataclass: a large export passes hundreds of thousands of these.
    """

    line: int
    cells: list[str]


class Table:
    """A CSV file being read: its header, then its data rows one at a time.

    :func:`open_table` reads the header; :meth:`rows` streams the data rows (blank ones left
    out) from the file's bytes, so the file is never held as text or as a list of rows: the
    memory a read needs is the bytes plus what the caller keeps of each row.
    """

    def __init__(
        self,
        name: str,
        header: tuple[str, ...],
        header_line: int,
        delimiter: str,
        stream: _Stream,
        problems: Problems,
        require_final_newline: bool,
    ) -> None:
        self.name = name
        self.header = header
        self.header_line = header_line
        self.delimiter = delimiter
        self._stream = stream
        self._problems = problems
        self._require_final_newline = require_final_newline

    def rows(self) -> Iterator[Row]:
        """The data rows. Rows of the wrong width go to ``problems`` and are left out; so does
        a last line that is not followed by a line break (see :func:`open_table`).

        Can be iterated once.

        :raises InvalidDataError: broken quoting, or bytes the encoding cannot read (with the
            problems found before that point).
        """
        stream, problems, width = self._stream, self._problems, len(self.header)
        for line, cells in stream.records():
            if _blank(cells):
                continue
            cells = [cell.strip() for cell in cells]
            if len(cells) > width and _blank(cells[width:]):
                del cells[width:]
            if len(cells) != width:
                problems.add(line, f"the row has {len(cells)} fields, the header has {width}")
                continue
            yield Row(line, cells)
        if self._require_final_newline and not stream.ends_with_line_break():
            problems.add(
                stream.last_line,
                "the file does not end with a line break, so its last line may have been cut"
                " off mid-row (an export still being written, or a copy that failed); if the"
                " accounting program never ends its exports with a line break, set"
                " require_final_newline=false",
            )


def read_file(path: Path, setting: str, max_bytes: int) -> bytes:
    """The bytes of the regular file a path setting names, at most ``max_bytes`` of them.

    See :func:`hub.toolkit.files.read_regular_file`; the limit is the ``max_file_mb``
    setting's.
    """
    return files.read_regular_file(
        path, setting=setting, max_bytes=max_bytes, limit_setting="max_file_mb"
    )


def _blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


#: A line with no data: only whitespace and delimiters (and a DOS end-of-file mark).
_BLANK_TAIL = re.compile(r"[\s;,\x1a]*")


class _Stream:
    """The records of a file's bytes, decoded on the fly, with physical line numbers."""

    def __init__(self, name: str, data: bytes, codec: str, problems: Problems) -> None:
        self.name = name
        self.data = data
        self.codec = codec
        self.problems = problems
        self.last_line = 0
        self.text = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
        self.offset = 0  # physical lines before the csv reader's first line (a sep= line)
        self.reader: Any = None

    def start(self, delimiter: str, offset: int) -> None:
        self.offset = self.last_line = offset
        self.reader = csv.reader(
            self.text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True
        )

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(physical line the record starts on, its cells), to the end of the file."""
        reader = self.reader
        try:
            for cells in reader:
                line, self.last_line = self.last_line + 1, reader.line_num + self.offset
                yield line, cells
        except csv.Error as exc:
            self.problems.add(
                self.last_line + 1,
                f"broken CSV quoting ({exc}); the rest of the file was not read",
            )
            raise self.problems.error() from None
        except UnicodeDecodeError as exc:  # checked before, so only if the file lies
            self.problems.add(self.last_line + 1, f"the file {exc.reason}")
            raise self.problems.error() from None

    def ends_with_line_break(self) -> bool:
        """Whether the last line holding data is followed by a line break."""
        if self.codec.startswith("utf-16"):
            text = _utf16_tail(self.data)
        else:  # a character cut at the tail's start cannot matter: only its end is looked at
            text = self.data[-4096:].decode(self.codec, errors="replace")
        end = max(text.rfind("\n"), text.rfind("\r"))
        return _BLANK_TAIL.fullmatch(text[end + 1 :]) is not None


def _utf16_tail(data: bytes) -> str:
    codec = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    tail = data[2:][-4096:]
    return tail[len(tail) % 2 :].decode(codec, errors="replace")


def open_table(
    name: str, data: bytes, problems: Problems, *, require_final_newline: bool = True
) -> Table:
    """Start reading a file's bytes: decide the encoding and delimiter, read the header.

    The encoding is checked over the whole file first (:func:`detect_encoding`): a file that
    is not valid text in its declared or detected encoding, or that mixes UTF-8 and
    Windows-1252, is refused before any row is read. Blank lines (empty, or only delimiters
    and whitespace) carry no data and are skipped wherever they are. More fields than the
    header has are tolerated only when the extra ones are empty (a trailing delimiter); fewer
    are an error. An Excel ``sep=;`` first line is honoured.

    With ``require_final_newline`` a file whose last line of data is not followed by a line
    break is refused (by :meth:`Table.rows`): an export cut off mid-row (``500,00`` cut to
    ``5``) still parses, and this is the evidence that it was cut.

    :raises InvalidDataError: the file cannot be decoded, has no header line, or its quoting is
        broken before the header's end.
    """
    try:
        codec = detect_encoding(data)
    except EncodingProblem as exc:
        line = line_of(data, exc.offset, "utf-16" if data[:2] in _UTF16_BOMS else "utf-8")
        raise InvalidDataError(f"the file {exc}", where=f"{name}:{line}") from None
    # The first line and the delimiter sample come from a stream of their own.
    sample = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
    first = sample.readline()
    delimiter = sep_hint(first)
    offset = 1 if delimiter else 0
    if delimiter is None:
        lines: list[str] = []
        text = first
        while text and len(lines) < SAMPLE_LINES:
            if text.strip():
                lines.append(text.rstrip("\r\n"))
            text = sample.readline()
        delimiter = detect_delimiter(lines)
    stream = _Stream(name, data, codec, problems)
    if offset:
        stream.text.readline()
    stream.start(delimiter, offset)
    header: list[str] | None = None
    header_line = 0
    for line_number, cells in stream.records():
        if _blank(cells):
            continue
        header = [cell.strip() for cell in cells]
        while header and not header[-1]:
            header.pop()  # a trailing delimiter in the header is no column
        header_line = line_number
        break
    if header is None:
        raise InvalidDataError("the file is empty (no header line)", where=f"{name}:1")
    return Table(
        name, tuple(header), header_line, delimiter, stream, problems, require_final_newline
    )
