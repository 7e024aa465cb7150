"""Checks recorded exchanges with the fake Tripletex (:mod:`hub.testing.fakes.tripletex`) against
Tripletex's own OpenAPI 3.0.1 spec (API 2.74.00, ``shared/specs/tripletex/openapi.json``) with
openapi-core: requests for their path, query parameters, security and body; answers for their
status and body. On top of openapi-core (which allows any extra property), every JSON object must
have only properties its schema declares.

Use::

    reason = spec_missing_reason()       # None, or why the spec cannot be loaded (skip then)
    validate_exchange(fake.requests[-1]) # AssertionError naming method, path and the problem

The spec is loaded once per process (:func:`load_spec`, cached): about 0.7 s, of which 0.55 s
import openapi-core and 0.12 s read and patch the 3.6 MB JSON (``Spec.load_seconds`` says how
long it took). openapi-core builds an operation's validators when it is first checked (some
30-100 ms); then a check takes 5-30 ms, a page of 1000 invoices about 0.9 s.

Where the spec is wrong, or openapi-core cannot take it as it is, the spec is patched when
loaded (exactly these, nothing else):

1. Integer query parameters with a *string* default (``from`` ``"0"``, ``count`` ``"1000"``, 338
   parameters): the default becomes the integer. openapi-core applies defaults to absent
   parameters and then refuses its own default (openapi-spec-validator refuses the spec for
   the same reason, hence ``Config(spec_validator_cls=None)``).
2. ``readOnly: true`` on whole component schemas (427 of them, e.g. ``Currency``, ``Invoice``,
   ``Company``) is dropped; ``readOnly`` on properties stays and is enforced on request bodies.
   The code generator marks a class read-only when one use is, yet the API takes a reference
   such as ``"currency": {"id": 1}`` in an ``Order`` or ``Posting``.
3. Request bodies declared only as ``application/json; charset=utf-8`` also accept
   ``application/json`` (the same media type; openapi-core compares the strings).
4. Every operation gets a ``default`` response with the spec's own ``ApiError`` schema: the spec
   declares no error answers at all, though its ``info.description`` documents that envelope.
   A 2xx/3xx status must still be one the operation declares (checked here, not by openapi-core).

And in the answers checked (not in the spec):

5. ``null`` is accepted where a property is an object (a link: ``"department": null``) or a
   string (``"endDate": null``), and for ``ApiError.validationMessages`` and
   ``ApiValidationMessage.rootId``: real answers write ``null`` for unset values [captured
   answers; the spec's description says validationMessages "can be null"] but the spec marks
   nothing ``nullable``. Such nulls are removed before openapi-core sees the body; a null
   anywhere else (a number, a boolean, an array) is an error.
6. The media type of an answer is compared without its parameters (``; charset=utf-8``).
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.testing.fakes.wire import dumps

if TYPE_CHECKING:
    from openapi_core import OpenAPI

    from hub.testing.fakes.tripletex.app import RecordedRequest, Response

__all__ = [
    "Spec",
    "load_spec",
    "spec_missing_reason",
    "spec_path",
    "validate_exchange",
    "validate_request",
    "validate_response",
]

HOST = "https://tripletex.no"
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
NULL_ALLOWED = {("ApiError", "validationMessages"), ("ApiValidationMessage", "rootId")}
_REF = "#/components/schemas/"


def shared_dir() -> Path:
    """The project's shared folder beside the repository, or ``HUB_SHARED_DIR``."""
    return Path(os.environ.get("HUB_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")


def spec_path() -> Path:
    return shared_dir() / "specs" / "tripletex" / "openapi.json"


def spec_missing_reason() -> str | None:
    """Why the spec cannot be used (for ``pytest.skip``), or ``None``."""
    path = spec_path()
    if not path.is_file():
        return f"Tripletex's spec is not at {path} (shared/specs is absent; set HUB_SHARED_DIR)"
    try:
        import openapi_core  # noqa: F401
    except ImportError:
        return "openapi-core is not installed (pip install receivables-hub[test])"
    return None


@dataclass(frozen=True)
class Spec:
    document: dict[str, Any]  # the patched spec
    paths: list[tuple[re.Pattern[str], str]]  # path templates, literal ones first
    load_seconds: float
    _apis: dict[str, OpenAPI] = field(default_factory=dict, repr=False)

    def api(self, template: str) -> OpenAPI:
        """openapi-core for the one path ``template`` (with every component): its path finder
        then tries one template instead of the spec's 560 (a tenth of the time per check)."""
        found = self._apis.get(template)
        if found is None:
            from openapi_core import Config, OpenAPI

            doc = {k: v for k, v in self.document.items() if k != "paths"}
            doc["paths"] = {template: self.document["paths"][template]}
            found = OpenAPI.from_dict(doc, config=Config(spec_validator_cls=None))
            self._apis[template] = found
        return found


def _patch(doc: dict[str, Any]) -> None:
    """Patches 1-4 of the module docstring."""
    for schema in doc["components"]["schemas"].values():
        schema.pop("readOnly", None)
    error = {
        "description": "ApiError (added: the spec declares no error answers)",
        "content": {"application/json": {"schema": {"$ref": _REF + "ApiError"}}},
    }
    for item in doc["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                default = schema.get("default")
                if schema.get("type") == "integer" and isinstance(default, str):
                    schema["default"] = int(default)
            content = operation.get("requestBody", {}).get("content", {})
            for media in list(content):
                bare = media.split(";")[0].strip()
                if bare != media and bare not in content:
                    content[bare] = content[media]
            operation["responses"].setdefault("default", error)


@functools.cache
def load_spec() -> Spec:
    """The patched spec and its openapi-core validators (once per process)."""
    started = time.perf_counter()
    reason = spec_missing_reason()  # imports openapi-core: most of the time
    if reason is not None:
        raise FileNotFoundError(reason)
    document = json.loads(spec_path().read_text(encoding="utf-8"))
    _patch(document)
    templates = sorted(document["paths"], key=lambda p: (p.count("{"), p))
    paths = [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t))), t) for t in templates]
    spec = Spec(document, paths, 0.0)
    spec.api("/invoice")  # openapi-core parses a spec lazily: this costs ~1 ms
    return Spec(document, paths, time.perf_counter() - started, spec._apis)


# --- helpers ------------------------------------------------------------------------------------


def _operation(spec: Spec, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The path template and operation a request is for (literal templates win)."""
    for pattern, template in spec.paths:
        if pattern.fullmatch(path):
            found: dict[str, Any] | None = spec.document["paths"][template].get(method.lower())
            if found is not None:
                return template, found
    return None


def _schema(spec: Spec, schema: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """``schema`` with its ``$ref`` resolved, and the component's name if it was one."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        name = ref[len(_REF) :]
        return name, spec.document["components"]["schemas"][name]
    return None, schema


def _clean(
    spec: Spec, schema: Mapping[str, Any], value: Any, where: str, problems: list[str]
) -> Any:
    """``value`` without the nulls rule 5 allows; undeclared properties and other nulls are
    added to ``problems``."""
    name, resolved = _schema(spec, schema)
    if isinstance(value, dict):
        props = resolved.get("properties")
        if props is None:
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = props.get(key)
            if sub is None:
                problems.append(f"{where}.{key}: not a property of {name or 'the schema'}")
                continue
            if item is None:
                sub_name, sub_schema = _schema(spec, sub)
                kind = sub_schema.get("type")
                if (
                    sub_name is not None
                    or kind in ("object", "string")
                    or (name, key) in NULL_ALLOWED
                ):
                    continue
                problems.append(f"{where}.{key}: null, but the spec says {kind}")
                continue
            out[key] = _clean(spec, sub, item, f"{where}.{key}", problems)
        return out
    if isinstance(value, list):
        items = resolved.get("items")
        if not isinstance(items, Mapping):
            return value
        return [
            _clean(spec, items, item, f"{where}[{i}]", problems) for i, item in enumerate(value)
        ]
    return value


def _mock_request(rec: RecordedRequest) -> Any:
    from openapi_core.testing import MockRequest

    content_type = (rec.headers.get("content-type") or "application/json").split(";")[0].strip()
    return MockRequest(
        HOST,
        rec.method.lower(),
        "/v2" + rec.path,
        args=[(k, v) for k, values in rec.query.items() for v in values],  # type: ignore[arg-type]
        headers=dict(rec.headers),
        data=rec.body or None,
        content_type=content_type,
    )


def _describe(exc: BaseException) -> str:
    """openapi-core's exception chain, with each schema error at its path (values cut short)."""
    lines = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    cause = exc.__cause__ or exc.__context__
    for _ in range(5):
        if cause is None:
            break
        errors = getattr(cause, "schema_errors", None)
        if errors:
            for error in list(errors)[:10]:
                at = ".".join(str(p) for p in getattr(error, "absolute_path", [])) or "(top)"
                lines.append(f"  at {at}: {str(getattr(error, 'message', error))[:300]}")
        else:
            lines.append(f"{type(cause).__name__}: {str(cause)[:300]}")
        cause = cause.__cause__ or cause.__context__
    return "\n".join(lines)


# --- validation ---------------------------------------------------------------------------------


def validate_request(rec: RecordedRequest) -> None:
    """The request matches the spec: path, method, parameters, security, body (and its objects
    have only declared properties)."""
    spec = load_spec()
    what = f"{rec.method} /v2{rec.path}"
    found = _operation(spec, rec.method, rec.path)
    if found is None:
        raise AssertionError(f"{what}: no such operation in Tripletex's spec")
    template, operation = found
    try:
        spec.api(template).validate_request(_mock_request(rec))
    except Exception as exc:
        raise AssertionError(
            f"{what}: the request does not match the spec:\n{_describe(exc)}"
        ) from exc
    if rec.body:
        body_schema = (
            operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        ).get("schema")
        if body_schema is not None:
            problems: list[str] = []
            _clean(spec, body_schema, json.loads(rec.body), "body", problems)
            if problems:
                raise AssertionError(f"{what}: request body: " + "; ".join(problems[:10]))


def validate_response(rec: RecordedRequest, response: Response | None = None) -> None:
    """The answer matches the spec: a declared status (errors: ``ApiError``), the body's schema,
    only declared properties, and the headers every answer carries (``x-tlx-request-id``,
    ``X-Rate-Limit-*``)."""
    from openapi_core.testing import MockResponse

    spec = load_spec()
    answer = response or rec.response
    if answer is None:
        raise AssertionError(f"{rec.method} {rec.path}: no answer recorded")
    what = f"{rec.method} /v2{rec.path} -> {answer.status}"
    headers = {k.lower(): v for k, v in answer.headers.items()}
    missing = [h for h in ("x-tlx-request-id", *RATE_HEADERS) if h not in headers]
    if missing:
        raise AssertionError(f"{what}: headers missing: {missing}")
    found = _operation(spec, rec.method, rec.path)
    if found is None:
        raise AssertionError(f"{what}: no such operation in Tripletex's spec")
    template, operation = found
    declared = operation["responses"]
    if answer.status < 400 and str(answer.status) not in declared:
        statuses = sorted(k for k in declared if k != "default")
        raise AssertionError(f"{what}: the spec declares {statuses} for this operation")
    if not answer.body:
        if answer.status != 204:
            raise AssertionError(f"{what}: empty body")
        return
    media = headers.get("content-type", "").split(";")[0].strip()
    if media != "application/json":
        raise AssertionError(f"{what}: content-type {headers.get('content-type')!r}")
    try:
        body = json.loads(answer.body, parse_float=Decimal)
    except ValueError as exc:
        raise AssertionError(f"{what}: the body is not JSON: {exc}") from exc
    entry = declared.get(str(answer.status)) or declared["default"]
    schema = entry.get("content", {}).get("application/json", {}).get("schema")
    problems: list[str] = []
    cleaned = _clean(spec, schema, body, "body", problems) if schema is not None else body
    if answer.status >= 400 and isinstance(body, dict):
        if body.get("status") != answer.status:
            problems.append(f"body.status {body.get('status')} is not the HTTP status")
        if body.get("requestId") != headers["x-tlx-request-id"]:
            problems.append("body.requestId is not the x-tlx-request-id header")
    if problems:
        raise AssertionError(f"{what}: " + "; ".join(problems[:10]))
    mock = MockResponse(
        dumps(cleaned).encode("utf-8"), status_code=answer.status, content_type="application/json"
    )
    try:
        spec.api(template).validate_response(_mock_request(rec), mock)
    except Exception as exc:
        raise AssertionError(
            f"{what}: the answer does not match the spec:\n{_describe(exc)}"
        ) from exc


def validate_exchange(
    rec: RecordedRequest, response: Response | None = None, *, request_valid: bool = True
) -> None:
    """:func:`validate_request` and :func:`validate_response`. ``request_valid=False``: the
    request is meant to break the spec (a test of the fake's refusal), so the spec must refuse
    it too, and the answer must be a 4xx ``ApiError``."""
    if request_valid:
        validate_request(rec)
    else:
        try:
            validate_request(rec)
        except AssertionError:
            pass
        else:
            raise AssertionError(f"{rec.method} {rec.path}: the spec accepts this request")
        answer = response or rec.response
        if answer is None or not 400 <= answer.status < 500:
            raise AssertionError(f"{rec.method} {rec.path}: a bad request answered {answer}")
    validate_response(rec, response)
