"""``/api/v1/messages``: the outbox (``hub messages list --json``, with its filters, a page at a
time) and one letter with its subject and text as stored and sent (``hub messages show
--json``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.filtering import Filter
from hub.console.jsonapi import doc, listing, one
from hub.console.paging import Paged, PageParams
from hub.operations import messages

router = APIRouter(tags=["letters"])


@router.get("/messages", responses=doc(messages.MessageLine, listed=True))
def message_list(
    ctx: Ctx,
    page: PageParams,
    client: Filter = None,
    status: Filter = None,
    kind: Filter = None,
    case: int | None = None,
    customer: Filter = None,
) -> Response:
    chosen = messages.MessageFilter(client or None, status or None, kind or None, case, customer)
    found = messages.page_messages(ctx, chosen, limit=page.limit, offset=page.offset)
    return listing(Paged(found.items, found.total, page.limit, page.offset))


@router.get("/messages/{message_id}", responses=doc(messages.MessageText))
def message(ctx: Ctx, message_id: int) -> Response:
    return one(messages.show_message(ctx, message_id))
