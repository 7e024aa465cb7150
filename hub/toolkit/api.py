"""A JSON API client's one request: send, turn a failure into the hub error, read the JSON.

An HTTP plugin's client subclasses :class:`JsonApiClient` and says what is its system's: how a
request is sent (:meth:`JsonApiClient._exchange`: headers, sessions, retries of writes) and how
a failed one is raised (:meth:`JsonApiClient._raise`, usually the plugin's
``raise_for_response``, see :mod:`hub.toolkit.vendor`). What every system shares is here:
an answer with a status in ``allow`` is ``(status, None)``, any other status >= 400 raises, an
empty answer is ``None``, and a success whose body is not JSON is an ``InvalidDataError``
naming the URL (:func:`hub.toolkit.vendor.answer_json`: amounts as ``Decimal``).

:func:`object_list` reads the records of a list answer (a page), checked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

import httpx

from hub.errors import InvalidDataError
from hub.toolkit import vendor
from hub.toolkit.fields import shape

__all__ = ["Call", "JsonApiClient", "object_list"]


@dataclass(frozen=True)
class Call:
    """One request as :meth:`JsonApiClient.request` was asked for it (``method`` upper case)."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    body: Any
    idempotency_key: str | None
    #: What the plugin was doing, for the error message (``"crediting invoice 5001"``).
    doing: str | None


class JsonApiClient(ABC):
    """The common part of a plugin's JSON API client (see the module docstring)."""

    #: The system's name in messages (``"e-conomic"``) and the plugin's name.
    vendor: ClassVar[str]
    plugin: ClassVar[str]

    @property
    @abstractmethod
    def secrets(self) -> tuple[str, ...]:
        """The values no message may show (tokens, the current session)."""

    @abstractmethod
    def _exchange(self, call: Call) -> tuple[httpx.Response, int]:
        """Send ``call`` as the system wants it; its final answer and the attempts made."""

    @abstractmethod
    def _raise(self, call: Call, response: httpx.Response, attempts: int) -> NoReturn:
        """Raise the hub error for the failed answer (status >= 400) to ``call``."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
        doing: str | None = None,
        allow: Iterable[int] = (),
    ) -> tuple[int, Any]:
        """Send one request and return (status, JSON).

        A final status >= 400 raises the hub error for it, unless it is in ``allow`` (then the
        JSON is None). A success whose body is not JSON raises :class:`InvalidDataError`
        naming the URL.
        """
        call = Call(method.upper(), path, params, body, idempotency_key, doing)
        response, attempts = self._exchange(call)
        status = response.status_code
        if status >= 400:
            if status in allow:
                return status, None
            self._raise(call, response, attempts)
        if not response.content:
            return status, None
        return status, self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        return vendor.answer_json(
            response, vendor=self.vendor, plugin=self.plugin, secrets=self.secrets
        )


def object_list(
    answer: Any, key: str, expected: str, *, plugin: str, where: str
) -> list[dict[str, Any]]:
    """``answer[key]``, checked to be a list of objects: the records of a list answer.

    ``expected`` words the answer's shape for the error (``'a list answer ({"values": [...],
    ...})'``)."""
    if not isinstance(answer, dict) or not isinstance(answer.get(key), list):
        raise InvalidDataError(
            f"expected {expected}, got {shape(answer)}", plugin=plugin, where=where
        )
    items: list[Any] = answer[key]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidDataError(
                f"{key}[{index}] is {shape(item)}, not an object", plugin=plugin, where=where
            )
    return items
