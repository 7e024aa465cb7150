"""``/api/v1/audit``: the audit log, newest first (``hub audit list --json``, the same filters),
a page at a time. An admin sees every entry; anyone else those of their clients."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.filtering import Filter
from hub.console.jsonapi import doc, listing
from hub.console.paging import Paged, PageParams
from hub.operations.audit import AuditFilter, AuditLine, list_audit

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=doc(AuditLine, listed=True))
def audit_log(
    ctx: Ctx,
    page: PageParams,
    client: Filter = None,
    user: Filter = None,
    action: Filter = None,
    since: Annotated[dt.date | None, Query(description="From this day on (UTC).")] = None,
) -> Response:
    chosen = AuditFilter(
        client=client or None,
        user=user or None,
        action=action or None,
        since=since,
        limit=page.limit,
        offset=page.offset,
    )
    found = list_audit(ctx, chosen)
    return listing(Paged(found.entries, found.total, page.limit, page.offset))
