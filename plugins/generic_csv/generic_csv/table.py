"""Reading one CSV file into a header and rows, with physical line numbers, and collecting
the problems found in it.

A file is all or nothing: :class:`Problems` collects every bad row (the first
:data:`MAX_SHOWN` are shown) and :meth:`Problems.raise_if_any` raises one
:class:`hub.errors.InvalidDataError` for the whole file, so the core stores nothing from it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from generic_csv.parsing import ValueProblem, decode, detect_delimiter, sep_hint
from hub.errors import InvalidDataError, RemoteServerError, SettingsError

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


@dataclass(frozen=True)
class Row:
    """One record: the physical line it starts on and its cells, stripped of whitespace."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A CSV file as read: header, data rows (blank ones left out) and the delimiter found."""

    name: str
    header: tuple[str, ...]
    header_line: int
    rows: tuple[Row, ...]
    delimiter: str


def read_bytes(path: Path, setting: str) -> bytes:
    """Read a file named by a path setting; a missing file is that setting's fault.

    :raises SettingsError: the file does not exist or is a directory.
    :raises RemoteServerError: the file exists but cannot be read (permissions, I/O).
    """
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise SettingsError(f"setting {setting}: {str(path)!r} is not a readable file") from None
    except OSError as exc:
        raise RemoteServerError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None


def _blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def parse_table(name: str, data: bytes, problems: Problems) -> Table:
    """Parse a file's bytes. Rows of the wrong width go to ``problems`` and are left out.

    Blank lines (empty, or only delimiters and whitespace) carry no data and are skipped
    wherever they are. More fields than the header has are tolerated only when the extra ones
    are empty (a trailing delimiter); fewer are an error. An Excel ``sep=;`` first line is
    honoured.

    :raises InvalidDataError: the file cannot be decoded, has no header line, or its quoting is
        broken (together with the problems found before that point).
    """
    try:
        text = decode(data)
    except ValueProblem as exc:
        raise InvalidDataError(f"the file {exc}", where=f"{name}:1") from None
    stream = io.StringIO(text, newline="")
    first = stream.readline()
    delimiter = sep_hint(first)
    offset = 1 if delimiter else 0
    if delimiter is None:
        stream.seek(0)
        lines = [line for line in text.splitlines() if line.strip()]
        delimiter = detect_delimiter(lines[:SAMPLE_LINES])
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    header: list[str] | None = None
    header_line = 0
    width = 0
    rows: list[Row] = []
    last = offset
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num + offset
            if _blank(cells):
                continue
            cells = [cell.strip() for cell in cells]
            if header is None:
                while cells and not cells[-1]:
                    cells.pop()  # a trailing delimiter in the header is no column
                header, header_line, width = cells, line, len(cells)
                continue
            if len(cells) > width and _blank(cells[width:]):
                cells = cells[:width]
            if len(cells) != width:
                problems.add(line, f"the row has {len(cells)} fields, the header has {width}")
                continue
            rows.append(Row(line, tuple(cells)))
    except csv.Error as exc:
        problems.add(last + 1, f"broken CSV quoting ({exc}); the rest of the file was not read")
        raise problems.error() from None
    if header is None:
        raise InvalidDataError("the file is empty (no header line)", where=f"{name}:1")
    return Table(name, tuple(header), header_line, tuple(rows), delimiter)
