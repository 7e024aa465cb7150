"""Snapshots of the CLI's human output: each command's text at a given terminal width, run in
this process on the demo's database, compared with ``tests/snapshots/NAME.COLUMNS.txt``.

A snapshot is the output a person reads, kept in the repository so a change to it is seen in
review. ``HUB_UPDATE_SNAPSHOTS=1 pytest tests/test_cli_output.py`` writes them anew; read the
diff before committing it. Paths of the run's throw-away directory read ``<workdir>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.cli.main import main

SNAPSHOTS = Path(__file__).parent / "snapshots"
#: The widths every command's output is read at: a small terminal and a common one.
WIDTHS = (80, 120)


@dataclass(frozen=True)
class Output:
    code: int
    out: str
    err: str


@contextmanager
def terminal(columns: int) -> Iterator[None]:
    """The CLI's consoles as wide as a terminal of ``columns``, as rich reads ``COLUMNS``."""
    from hub.cli import output

    consoles = (output.console, output.err_console)
    before = [c._width for c in consoles]  # rich keeps a fixed width there
    for c in consoles:
        c.width = columns
    try:
        yield
    finally:
        for c, width in zip(consoles, before, strict=True):
            c._width = width


def run(capsys: pytest.CaptureFixture[str], argv: Sequence[str], *, columns: int = 80) -> Output:
    """``hub ARGV`` in this process at a terminal of ``columns``: exit code, stdout, stderr."""
    capsys.readouterr()
    with terminal(columns):
        code = main(list(argv))
    captured = capsys.readouterr()
    return Output(code, captured.out, captured.err)


def check(name: str, text: str, *, workdir: Path | None = None, columns: int | None = None) -> None:
    """``text`` is the snapshot ``name`` (``HUB_UPDATE_SNAPSHOTS=1`` writes it instead), and no
    line of it is wider than ``columns``, once the run's throw-away directory, whose length is
    the machine's and not the command's, reads ``<workdir>``."""
    if workdir is not None:
        text = text.replace(str(workdir), "<workdir>")
    if columns is not None:
        assert widest_line(text) <= columns, f"{name}: a line wider than {columns} columns"
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("HUB_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with HUB_UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"the output differs from {path.name}"


def widest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)
