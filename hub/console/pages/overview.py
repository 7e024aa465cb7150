"""The overview: the clients the user may see, and each client's overview (open amount by
age, cases by stage, each as a chart and a table, and who owes after the last reminder)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console import i18n
from hub.console.charts import BarChart, bar_chart
from hub.console.deps import Ctx
from hub.console.rendering import language_of, render, words
from hub.operations import clients, collection
from hub.operations.overview import AGE_BUCKETS, ClientOverview, client_overview

router = APIRouter()

#: The age buckets in the order shown, with their words (``not_due`` first).
AGE_KEYS: tuple[tuple[str, str], ...] = (
    ("not_due", "overview.not_due"),
    *((key, f"overview.{key}") for key, _, _ in AGE_BUCKETS),
)


def seen_clients(ctx: Ctx) -> list[clients.ClientSummary]:
    """The clients the acting user may see, by name."""
    return clients.list_clients(ctx)  # the operation shows only those


@router.get("/")
def overview(request: Request, ctx: Ctx) -> Response:
    return render(request, "overview.html", {"clients": seen_clients(ctx)})


def _age_charts(request: Request, found: ClientOverview) -> list[BarChart]:
    said, lang = words(request), language_of(request)
    charts = []
    for row in found.ages:
        rows = [
            (
                said(word),
                [
                    (
                        row.bucket(key),
                        f"bar age-{key}",
                        i18n.amount(row.bucket(key), row.currency, lang),
                    )
                ],
                i18n.amount(row.bucket(key), row.currency, lang),
            )
            for key, word in AGE_KEYS
        ]
        charts.append(bar_chart(said("overview.ages_of", currency=row.currency), rows))
    return charts


def _stage_chart(request: Request, found: ClientOverview) -> BarChart:
    said = words(request)
    rows = [
        (
            said(f"stage.{row.stage}"),
            [
                (row.active, "bar active", f"{said('state.active')}: {row.active}"),
                (row.paused, "bar paused", f"{said('state.paused')}: {row.paused}"),
            ],
            str(row.open),
        )
        for row in found.stages
    ]
    return bar_chart(said("overview.stages"), rows)


@router.get("/overview/{name}")
def client_page(request: Request, ctx: Ctx, name: str) -> Response:
    """One client's overview; a client the user may not see is not found."""
    found = client_overview(ctx, name)
    owing = collection.collection_overview(ctx, name).rows
    values = {
        "found": found,
        "age_keys": AGE_KEYS,
        "age_charts": _age_charts(request, found),
        "stage_chart": _stage_chart(request, found),
        "owing": owing,
    }
    return render(request, "client_overview.html", values)
