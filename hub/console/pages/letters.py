"""Letters: the outbox (filters, pages) and each letter exactly as it was made and sent: its
stored subject and text, shown as text (escaped, in ``<pre>``), never as live HTML."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.filtering import Filter, FilterField, filtered, value
from hub.console.pages.overview import seen_clients
from hub.console.paging import Paged, PageParams
from hub.console.rendering import render, words
from hub.operations import messages

router = APIRouter()

_NUMBERED = re.compile(r"reminder_([0-9]+)")


def kind_word(request: Request) -> Callable[[str], str]:
    """``kind_word(kind)``: a message's kind in the user's language (``reminder_2``: the
    second reminder); a kind without a word is shown as it is."""
    said = words(request)

    def word(kind: str) -> str:
        numbered = _NUMBERED.fullmatch(kind)
        if numbered:
            return said("kind.reminder_n", number=numbered.group(1))
        try:
            return said(f"kind.{kind}")
        except KeyError:
            return kind

    return word


@router.get("/letters")
def letter_list(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    client: Filter = None,
    status: Filter = None,
    kind: Filter = None,
    case: int | None = None,
    customer: Filter = None,
) -> Response:
    chosen = messages.MessageFilter(
        value(client), value(status), value(kind), case, value(customer)
    )
    found = messages.page_messages(ctx, chosen, limit=page.limit, offset=page.offset)
    values = {
        "page": Paged(found.items, found.total, page.limit, page.offset),
        "chosen": chosen,
        "clients": seen_clients(ctx),
        "statuses": messages.STATUSES,
        "kinds": sorted(messages.KINDS),
        "kind_word": kind_word(request),
    }
    return render(request, "letters.html", values)


@router.post("/letters/filter")
def filter_letters(
    client: FilterField = "",
    status: FilterField = "",
    kind: FilterField = "",
    case: FilterField = "",
    customer: FilterField = "",
) -> Response:
    """The filter form: a redirect to the outbox with the filters in its address."""
    filters = {"client": client, "status": status, "kind": kind, "case": case}
    return filtered("/letters", {**filters, "customer": customer})


@router.get("/letters/{message_id}")
def letter_page(request: Request, ctx: Ctx, message_id: int) -> Response:
    letter = messages.show_message(ctx, message_id)
    return render(request, "letter.html", {"letter": letter, "kind_word": kind_word(request)})
