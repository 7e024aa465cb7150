"""``hub demo``: the README's first command ends in this.

One simulated timeline of 91 days for three clients, driven by the daemon's own jobs. The demo
runs once for this module (it takes seconds); each test reads what a user would notice in it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.cli.main import main
from hub.clock import Clock
from hub.demo import DemoResult, run_demo
from hub.demo.csv_client import INVOICES as CSV_INVOICES
from hub.demo.summary import LawTally
from hub.demo.timeline import DAYS, START, Progress, Tick
from hub.dunning.law import LAW
from hub.errors import HubError, InputError
from hub.plugins import PluginRegistry, load_plugins

D = Decimal
#: The demo runs once for this module (its fixture), so the module's tests share a worker.
pytestmark = pytest.mark.xdist_group("demo")


@dataclass
class Demo:
    """``hub demo`` run once: its result, the lines it said, the days its progress was shown,
    and what it printed (off a terminal)."""

    result: DemoResult
    lines: list[str]
    ticks: list[dt.date]
    out: str


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo, run once through the CLI (91 simulated days take a while): ``run_demo`` is
    watched on its way, the real one doing the work, so the tests see its result too."""
    import hub.demo

    base = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    ticks: list[dt.date] = []
    results: list[DemoResult] = []
    real_run_demo = hub.demo.run_demo

    def watched(
        registry: PluginRegistry,
        workdir: Path | None,
        say: Callable[[str], None],
        progress: Progress,
    ) -> DemoResult:
        def said(line: str) -> None:
            lines.append(line)
            say(line)

        @contextmanager
        def counted(total: int) -> Iterator[Tick]:
            assert total == DAYS
            with progress(total) as tick:

                def both(day: dt.date) -> None:
                    ticks.append(day)
                    tick(day)

                yield both

        results.append(real_run_demo(registry, workdir, said, counted))
        return results[-1]

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as env:  # as the autouse hub_env does for each test
        env.setenv("HUB_DATA_DIR", str(base / "hub-data"))
        for var in ("HUB_DATABASE_URL", "HUB_SECRET_KEY", "HUB_TODAY", "HUB_LOAD_PLUGINS"):
            env.delenv(var, raising=False)
        env.delenv("HUB_BLOCK_PLUGINS", raising=False)
        env.setattr(hub.demo, "run_demo", watched)
        with redirect_stdout(out):
            assert main(["demo", "--workdir", str(base / "work")]) == 0
    assert ticks == [START + dt.timedelta(days=n) for n in range(DAYS)]
    [result] = results
    yield Demo(result, lines, ticks, out.getvalue())


@pytest.fixture
def demo(demo_run: Demo) -> tuple[DemoResult, list[str]]:
    """The demo's result and the lines it said."""
    return demo_run.result, demo_run.lines


def _tally(result: DemoResult, client: str) -> LawTally:
    (tally,) = [x for x in result.summary.law if x.client == client]
    return tally


def _within_the_law(tally: LawTally) -> None:
    law = LAW[tally.country]
    assert tally.highest_fee == law.max_reminder_fee  # every fee is the most the law allows
    assert tally.fees == law.max_reminder_fee * tally.fee_letters
    assert tally.most_fees_per_claim == law.max_fee_reminders
    assert tally.closest_fee_days is not None
    assert tally.closest_fee_days >= law.min_days_between_fee_reminders
    assert tally.closest_fee_days > law.reminder_deadline_days  # after the pay-by date
    assert tally.earliest_fee_days is not None
    assert tally.earliest_fee_days >= law.min_days_after_due_for_fee


def test_the_csv_client_syncs_its_export_and_sees_payments(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, lines = demo
    story = result.csv.story
    assert (story.first_sync["new"], story.first_sync["customers"]) == (10, 5)
    after = story.after_payments
    assert (after["settled"], after["unchanged"], after["new"]) == (2, 8, 0)
    assert story.open_invoices == 8
    # Due 14 days after issue, so the six open invoices issued 15+ days before day 2 are
    # overdue: 10001, 10003, 10004, 10006, 10007, 10008 (gross = net + 25 % VAT).
    assert story.overdue_invoices == 6
    expected = sum(
        (D(gross) for gross in ("10000.00", "29999.00", "515.62", "1249.99", "388.00")),
        D("150000.00"),
    )
    assert story.overdue_amount == expected == D("192152.61")
    assert str(story.overdue_amount) == "192152.61"
    assert "2026-09-17  demo-dk        sync: 2 settled in the books, 2 cases closed" in lines


def test_the_csv_client_is_dunned_by_the_danish_law(demo: tuple[DemoResult, list[str]]) -> None:
    result, _ = demo
    tally = _tally(result, "demo-dk")
    # Friendly reminders 3 days before the due date to the four invoices not yet due when
    # they appear (10009, 10010, and 10011, 10012 that come on day 40). Reminder 1, 10 days
    # after the due date, to all but 10011 (paid on its due date): 11. Reminders 2 and 3, each
    # 11 days after the one before (after its 10-day pay-by date), to those still open:
    # 10002 and 10005 were paid on day 2, 10003 on day 12 (after reminder 2 on day 11).
    assert tally.letters == {
        "friendly_reminder": 4,
        "reminder_1": 11,
        "reminder_2": 9,
        "reminder_3": 8,
    }
    assert tally.fee_letters == 28
    assert tally.fees == D("2800.00")  # 28 reminders at 100 DKK (renteloven § 9 b)
    _within_the_law(tally)
    assert tally.delivered == 32
    assert len(list((result.workdir / "letters" / "demo-dk").glob("*.eml"))) == 32
    # Every paid invoice's case closed by itself (R1): 10002, 10005, 10003 and 10011.
    assert result.summary.auto_closed["demo-dk"] == sum(
        1 for inv in CSV_INVOICES if inv.paid_on is not None
    )
    assert result.summary.cases["demo-dk"] == {
        ("reminder", "active"): 8,
        ("reminder", "closed"): 3,
        ("invoice", "closed"): 1,  # 10011, paid on its due date before any reminder
    }


def test_the_e_conomic_client_goes_to_collection_and_writes_off(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, lines = demo
    tally = _tally(result, "demo-economic")
    # One consolidated reminder per customer per step (C1): the builder got one before its
    # collection warning (day 14), the café and the kayak club three each, the most a claim
    # may bear; then the builder's two invoices were handed over one by one (C4).
    assert tally.letters == {
        "customer_reminder": 7,
        "collection_warning": 1,
        "collection_notice": 2,
    }
    assert tally.fees == D("700.00")
    _within_the_law(tally)
    collection = {c.invoices: c for c in result.summary.collection if c.client == "demo-economic"}
    assert set(collection) == {"20001", "20002"}
    # The agency collected 20001 (10 000 DKK gross): marked paid, success fee 10 %, still open.
    assert (collection["20001"].state, collection["20001"].paid_in_accounting) == ("active", True)
    assert collection["20001"].success_fee == D("1000.00")
    assert (collection["20002"].state, collection["20002"].close_code) == ("closed", "written_off")
    story = result.economic.story
    # e-conomic was down when the person asked; the postings job finished it the same day,
    # with the one voucher, posted once; booked, it settled the invoice in e-conomic.
    assert "503" in story.write_off_error
    # The 3 000 DKK gross off the customer: 2 400 net to the loss account, 600 VAT back.
    assert story.write_off_voucher == [
        ("customer 101", D("-3000.00")),
        ("3720", D("2400.00")),
        ("6902", D("600.00")),
    ]
    assert story.vouchers_posted == 1
    assert story.unpaid_after == [20003, 20005]
    assert story.requests > DAYS  # every day's sync went over HTTP to the fake e-conomic
    assert "2026-10-15  demo-economic  postings: 1 write-off finished" in lines


def test_the_norwegian_client_makes_recurring_invoices_once_each(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, _ = demo
    story = result.tripletex.story
    # 15 Oct, 15 Nov, 15 Dec, each made 5 days early: the first with 5–14 October (10/31 of
    # 3 100 = 1 000) beside the fixed 2 500 and the month's 3 100.
    invoices = [(m.invoice_date, m.net) for m in story.made if m.kind == "invoice"]
    assert invoices == [
        (dt.date(2026, 10, 15), D("6600.00")),
        (dt.date(2026, 11, 15), D("5600.00")),
        (dt.date(2026, 12, 15), D("5600.00")),
    ]
    assert story.first_invoice_lines[1] == (
        "Lisens regnskapsprogram, 05.10.2026–14.10.2026 1.00 x 1000.00"
    )
    orders = [(m.invoice_date, m.net) for m in story.made if m.kind == "order"]
    assert orders == [(dt.date(2026, 11, 1), D("1000.00")), (dt.date(2026, 12, 1), D("1000.00"))]
    assert len({m.reference for m in story.made}) == len(story.made) == 5
    # 91 recurring runs made each once: Tripletex holds its 3 old invoices and the 3 new.
    assert story.invoices_in_tripletex == 6
    assert [r[1:] for r in result.summary.recurring] == [
        (m.kind, m.invoice_date, m.reference, m.net, "NOK") for m in story.made
    ]


def test_the_norwegian_client_is_dunned_by_the_norwegian_law(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, _ = demo
    tally = _tally(result, "demo-no")
    # Reminder 1 only 14 days after the due date (30001, 30002, 30003 and the November
    # recurring invoice), reminder 2 after its 14-day deadline (the first three), no third.
    assert {k: v for k, v in tally.letters.items() if k.startswith("reminder")} == {
        "reminder_1": 4,
        "reminder_2": 3,
    }
    assert tally.fees == D("245.00")  # 7 reminders at 35 NOK (inkassoforskriften § 1-2)
    _within_the_law(tally)
    # The first recurring invoice was paid 9 days after it was made: its case closed (R1).
    assert result.summary.auto_closed["demo-no"] == 1


def test_every_run_is_recorded_ok_in_the_run_history(
    demo: tuple[DemoResult, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    result, lines = demo
    assert result.summary.runs == {
        ("sync", "ok"): 3 * DAYS,
        ("recurring", "ok"): DAYS,
        ("postings", "ok"): DAYS,
    }
    assert any(
        line.startswith("Runs recorded in the run history: postings 91 ok") for line in lines
    )
    # The command the demo suggests shows them, the write-off among them.
    assert f"  hub --db {result.database} runs list" in lines
    capsys.readouterr()
    argv = ["--db", result.database, "runs", "list", "--job", "postings", "--limit", "200"]
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == DAYS and {r["outcome"] for r in rows} == {"ok"}
    finished = [r for r in rows if r["counts"].get("write_offs")]
    assert [(r["client"], r["counts"]["write_offs"]) for r in finished] == [("demo-economic", 1)]


def test_the_demo_tells_amounts_as_the_hub_shows_them(
    demo: tuple[DemoResult, list[str]],
) -> None:
    """The story is English: amounts as ``hub cases list`` shows them in the user's locale
    (2,800.00 DKK in the tests' English one), never in the Danish way the CSV export writes
    them (2.800,00) inside an English sentence."""
    result, lines = demo
    told = "\n".join(lines)
    assert "28 fees, 2,800.00 DKK in all: none above 100.00 DKK, at most 3 per invoice" in told
    assert "6 overdue for 192,152.61 DKK" in told
    assert "success fee 1,000.00 DKK" in told
    assert re.search(r"\d,\d\d\b", told) is None, "a Danish decimal comma in the story"
    export = (result.workdir / "open-invoices.csv").read_text(encoding="cp1252")
    assert ";8.000,00;2.000,00;10.000,00;" in export  # the export itself stays Danish


def test_the_demo_gives_the_clock_back(demo: tuple[DemoResult, list[str]]) -> None:
    assert "HUB_TODAY" not in os.environ
    tz = "Europe/Copenhagen"
    assert Clock.from_environment().today(tz) == dt.datetime.now(ZoneInfo(tz)).date()


def test_a_simulated_day_is_a_clock_of_its_own() -> None:
    fixed = Clock(fixed=dt.date(2026, 2, 2))
    assert fixed.today("Europe/Oslo") == dt.date(2026, 2, 2)
    tz = "Europe/Oslo"
    assert Clock().today(tz) == dt.datetime.now(ZoneInfo(tz)).date()  # the real one, untouched


def test_demo_cli_prints_plain_lines_off_a_terminal(demo_run: Demo) -> None:
    out = demo_run.out
    assert "2026-09-15  demo-dk        sync: 10 new invoices, 10 cases started" in out
    assert "renteloven § 9 b stk. 1" in out and "inkassoforskriften § 1-2" in out
    assert "runs list" in out and "cases list --client demo-dk" in out and "hub run --help" in out
    assert "docs/rules.md" in out  # where the rule codes the story cites are explained
    assert "\x1b" not in out and "━" not in out  # no progress bar, no escape codes in a pipe


def test_demo_refuses_a_workdir_with_an_earlier_demo(tmp_path: Path) -> None:
    (tmp_path / "demo.sqlite3").write_bytes(b"")
    with pytest.raises(InputError, match="earlier demo"):
        run_demo(load_plugins(), tmp_path)


def test_demo_without_the_csv_plugin_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "")
    with pytest.raises(HubError, match="pip install -e plugins/generic_csv"):
        run_demo(load_plugins(), tmp_path)
