"""Forms whose fields are not known in advance (a plugin's settings, a client's rules, a flow's
steps, an agreement's lines), and where a refusal belongs on them.

A route takes ``form: FormValues``: the submitted fields as text, line breaks as ``\\n`` (a
browser sends a text area's as ``\\r\\n``). When an operation refuses the input, the page is
shown again with what was typed and the operation's message next to the field it names
(:func:`named_fields`, :func:`step_refused`), or above the form when it names none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hub.errors import ConflictError, ForbiddenError, NotFoundError

__all__ = [
    "NOT_THE_INPUT",
    "FormValues",
    "StepRefusal",
    "named_fields",
    "read_form",
    "step_refused",
]

#: Refusals that are not about what was typed (no such thing or one the user may not see, a
#: change the user may not make, a thing busy now): a form re-raises them before it catches
#: :class:`~hub.errors.InputError`, so they are answered by the one error table (404, 403,
#: 409), never shown as a refused field.
NOT_THE_INPUT = (NotFoundError, ForbiddenError, ConflictError)


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each; files ignored) with ``\\r\\n`` as ``\\n``."""
    form = await request.form()  # read once: the CSRF check has read it already
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value.replace("\r\n", "\n").replace("\r", "\n")
    return values


#: A route's parameter ``form: FormValues``.
FormValues = Annotated[dict[str, str], Depends(read_form)]


def named_fields(message: str, names: list[str]) -> list[str]:
    """The fields of ``names`` that a refusal names: quoted (``setting 'page_size'``) or as a
    word of their own (``rule start_date:``, ``needs these settings: api_token``)."""
    found = []
    for name in names:
        quoted = f"'{name}'" in message or f'"{name}"' in message
        if quoted or re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", message):
            found.append(name)
    return found


@dataclass(frozen=True)
class StepRefusal:
    """Where a refused flow belongs: ``row`` (from 0) of the rows typed, and its ``field``
    (``offset``, ``anchor``, ``template`` or ``fee``); None where the refusal is the flow's
    as a whole (too many fees) or names no one field."""

    row: int | None
    field: str | None


_NUMBERED = re.compile(r"\b(?:invoice|reminder|collection) step (\d+)\b")


def _field_of(said: str) -> str | None:
    """The field of a step a refusal's words are about (``said``: the words after the step)."""
    if "template" in said:
        return "template"
    if "anchor" in said:
        return "anchor"
    timing = ("carries a fee", "offset", "falls")
    if any(word in said for word in timing):
        return "offset"
    if "fee" in said:
        return "fee"
    return None


def step_refused(message: str, typed: list[str]) -> StepRefusal:
    """Where ``message`` (a refusal of ``hub flows set``) belongs among the steps ``typed``
    (each as ``offset;anchor;template;fee``, the blank rows left out). A step that could not
    be read is named by its text (``step '10;x;...': anchor must be ...``); a step that breaks
    a rule by its number (``reminder step 2: fee 150.00 DKK is above the maximum ...``)."""
    for index, text in enumerate(typed):
        lead = f"step {text!r}: "
        if message.startswith(lead):
            return StepRefusal(index, _field_of(message[len(lead) :]))
    numbered = _NUMBERED.search(message)
    if numbered is not None:
        index = int(numbered.group(1)) - 1
        if 0 <= index < len(typed):
            return StepRefusal(index, _field_of(message[numbered.end() :]))
    return StepRefusal(None, None)
