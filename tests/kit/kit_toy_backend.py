"""The toy plugin's "system" for the kit: a JSON file, seeded and inspected directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.testing.conformance import ConformanceBackend, ConformanceData, Effect, Fault

TOKEN = "toy-token-5e0c1b9d"


class ToyBackend(ConformanceBackend):
    page_size = 10

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write({"token": TOKEN, "invoices": [], "customers": []})

    def _read(self) -> dict[str, Any]:
        books: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return books

    def _write(self, books: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(books), encoding="utf-8")

    def settings(self) -> dict[str, str]:
        return {"books_path": str(self.path), "api_token": TOKEN}

    def seed(self, data: ConformanceData) -> None:
        books = self._read()
        books["customers"] = [
            {"number": c.customer_number, "name": c.name, "email": c.email} for c in data.customers
        ]
        books["invoices"] = [
            {
                "number": i.invoice_number,
                "customer": i.customer_number,
                "date": i.invoice_date.isoformat(),
                "due": i.due_date.isoformat(),
                "currency": i.currency,
                "net": str(i.net_amount),
                "vat": str(i.vat_amount),
                "gross": str(i.gross_amount),
                "outstanding": str(i.outstanding_amount),
            }
            for i in data.invoices
        ]
        self._write(books)

    def requests_made(self) -> int:
        requests = self.path.with_suffix(".requests")
        return requests.stat().st_size if requests.exists() else 0

    def effects(self, kind: Effect) -> set[str]:
        if kind != "credit_note":
            raise NotImplementedError(f"the toy makes no {kind}")
        return set(self._read().get("credit_notes", {}))

    @contextmanager
    def fault(self, kind: Fault) -> Iterator[dict[str, str]]:
        books = self._read()
        if kind == "auth":
            yield {**self.settings(), "api_token": "toy-token-wrong"}
            return
        if kind == "malformed":
            books["invoices"][0]["outstanding"] = "12,50 kr"
        else:
            books["fault"] = kind
        self._write(books)
        try:
            yield self.settings()
        finally:
            books["fault"] = None
            self._write(books)
