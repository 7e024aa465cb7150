"""A vendor's error answers, turned into the hub's errors, with no secret left in them.

:func:`raise_for_response` is the common part of every HTTP plugin's error translation:
:meth:`hub.toolkit.http.HubHttpClient.raise_for_status` chooses the error type from the status
(401/403 ``AuthError``, 429 ``ThrottledError``, 5xx ``RemoteServerError``, other 4xx
``RemoteRequestError``), the plugin's parser (``parse``) reads what the vendor said, and the
message gets, in order: what the plugin was doing, the method and path, and the vendor's own
words (``"... e-conomic says: Validation error (E04300); logId ..."``). A refused credential is
worded by the plugin (``auth_message``), which knows its settings. Every message is scrubbed
of the secrets (:func:`scrub`), even if a server echoed one back.

:func:`body_of`, :func:`text_of` help a parser read an error body into an
:class:`ErrorBody`, which words it; :func:`answer_json` reads a
successful answer, naming the URL (without query string) when it is not JSON;
:func:`check_credited` refuses a credit note for an invoice of another customer or currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, Protocol, TypeVar

import httpx

from hub.errors import AuthError, InvalidDataError, PluginError, RemoteRequestError, ThrottledError
from hub.model import CreditNoteRequest, Invoice
from hub.toolkit import wire
from hub.toolkit.http import HubHttpClient

__all__ = [
    "MASK",
    "ErrorBody",
    "VendorError",
    "answer_json",
    "body_of",
    "check_credited",
    "raise_for_response",
    "scrub",
    "text_of",
]

MASK = "********"


class VendorError(Protocol):
    """What a plugin's parser makes of an error body."""

    def describe(self) -> str:
        """What the vendor said, in one line (message, code, field errors, request id)."""
        ...


E = TypeVar("E", bound=VendorError)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced by a mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def text_of(value: Any) -> str | None:
    """A field of an error body as one line of text; None when it is not (non-blank) text."""
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


@dataclass(frozen=True)
class ErrorBody:
    """What a vendor's error body says (all optional: bodies vary by endpoint), worded as
    ``message (code); field error; ...; <hint_label>: hint; <reference_label> reference``.

    A plugin subclasses it to name its hint and reference (``logId``, ``requestId``).
    """

    hint_label: ClassVar[str] = "hint"
    reference_label: ClassVar[str] = "reference"

    message: str | None = None
    #: The error code as it is to be shown (``E04300``, ``code 4000``).
    code: str | None = None
    hint: str | None = None
    #: What identifies the request at the vendor, for its support.
    reference: str | None = None
    field_errors: tuple[str, ...] = ()

    def describe(self) -> str:
        """What the vendor said, in one line."""
        parts: list[str] = []
        if self.message:
            message = self.message.rstrip(".")
            parts.append(f"{message} ({self.code})" if self.code else message)
        elif self.code:
            parts.append(self.code)
        parts += [e.rstrip(".") for e in self.field_errors]
        if self.hint:
            parts.append(f"{self.hint_label}: {self.hint.rstrip('.')}")
        if self.reference:
            parts.append(f"{self.reference_label} {self.reference}")
        return "; ".join(parts)


def body_of(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON object of ``response``'s body, or None if the body is not one."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def answer_json(
    response: httpx.Response, *, vendor: str, plugin: str, secrets: Iterable[str] = ()
) -> Any:
    """The JSON of a successful answer (amounts as ``Decimal``).

    :raises InvalidDataError: the body is not JSON; names the URL without query string.
    """
    try:
        return wire.loads(response.content)
    except ValueError as exc:
        content_type = response.headers.get("Content-Type", "none")
        raise InvalidDataError(
            f"{vendor}'s answer is not valid JSON (HTTP {response.status_code}, content-type"
            f" {content_type}, {len(response.content)} bytes)",
            plugin=plugin,
            where=scrub(str(response.request.url.copy_with(query=None, fragment=None)), secrets),
        ) from exc


def raise_for_response(
    http: HubHttpClient,
    response: httpx.Response,
    *,
    vendor: str,
    parse: Callable[[httpx.Response], E | None],
    auth_message: Callable[[str, int, E | None], str],
    attempts: int,
    secrets: Sequence[str],
    doing: str | None = None,
) -> NoReturn:
    """Raise the hub error for a final response with status >= 400, with the vendor's details.

    ``doing`` says what the plugin was doing (``"crediting invoice 5001"``), put first.
    ``auth_message(what, status, error)`` words a 401/403, ``what`` being the doing, plugin,
    method and path.
    """
    error = parse(response)
    # With a vendor body, hand hub.toolkit.http an empty copy so that its message does not
    # repeat the raw body; what the vendor said is added below, field by field.
    judged = (
        response
        if error is None
        else httpx.Response(
            response.status_code, headers=response.headers, request=response.request
        )
    )
    try:
        http.raise_for_status(judged, attempts=attempts)
    except PluginError as exc:
        base = f"{doing}: {exc}" if doing else str(exc)
        if isinstance(exc, AuthError):
            what = f"{http.plugin}: {response.request.method} {response.request.url.path}"
            what = f"{doing}: {what}" if doing else what
            message = auth_message(what, response.status_code, error)
        elif error is not None:
            message = f"{base}: {vendor} says: {error.describe()}"
        else:
            message = base
        message = scrub(message, secrets)
        new: PluginError
        if isinstance(exc, ThrottledError):
            new = ThrottledError(message, plugin=exc.plugin, retry_after=exc.retry_after)
        else:
            new = type(exc)(message, plugin=exc.plugin)
        raise new from None
    # raise_for_status returns only for status < 400; callers never get here with one.
    raise RemoteRequestError(
        scrub(f"unexpected HTTP {response.status_code} from {vendor}", secrets),
        plugin=http.plugin or None,
    )


def check_credited(
    booked: Invoice, request: CreditNoteRequest, *, vendor: str, plugin: str, doing: str
) -> None:
    """Refuse a credit note whose invoice (``booked``, as the vendor has it) belongs to another
    customer or is in another currency than the request says.

    :raises RemoteRequestError: naming both customers or both currencies.
    """
    if booked.customer_number != request.customer_number.strip():
        raise RemoteRequestError(
            f"{doing}: the invoice belongs to customer {booked.customer_number} in {vendor},"
            f" not to {request.customer_number}",
            plugin=plugin,
        )
    if booked.currency != request.currency:
        raise RemoteRequestError(
            f"{doing}: the invoice is in {booked.currency}, the credit note asked for is in"
            f" {request.currency}",
            plugin=plugin,
        )
