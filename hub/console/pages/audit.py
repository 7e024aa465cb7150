"""The audit log: who changed what, when, before and after (``hub audit list``), newest first,
with filters and pages. An admin sees every entry; anyone else those of their clients."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.filtering import Filter, FilterField, filtered, value
from hub.console.pages.overview import seen_clients
from hub.console.paging import Paged, PageParams
from hub.console.rendering import render
from hub.operations.audit import AuditFilter, list_audit

router = APIRouter()


@router.get("/audit")
def audit_log(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    client: Filter = None,
    user: Filter = None,
    action: Filter = None,
) -> Response:
    chosen = AuditFilter(
        client=value(client),
        user=value(user),
        action=value(action),
        limit=page.limit,
        offset=page.offset,
    )
    found = list_audit(ctx, chosen)
    values = {
        "page": Paged(found.entries, found.total, page.limit, page.offset),
        "chosen": chosen,
        "clients": seen_clients(ctx),
    }
    return render(request, "audit.html", values)


@router.post("/audit/filter")
def filter_audit(
    client: FilterField = "", user: FilterField = "", action: FilterField = ""
) -> Response:
    """The filter form: a redirect to the log with the filters in its address."""
    return filtered("/audit", {"client": client, "user": user, "action": action})
