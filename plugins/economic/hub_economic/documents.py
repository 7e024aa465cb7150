"""What credit notes and invoices share: texts, the layout, references."""

from __future__ import annotations

from typing import Any

from hub.errors import SettingsError
from hub_economic import drafts
from hub_economic.client import EconomicClient
from hub_economic.settings import Config

_CREDIT_TEXT = {
    "DK": "Kreditering af faktura {number}",
    "NO": "Kreditering av faktura {number}",
}


def line_text(country: str, invoice_number: str) -> str:
    """The credit note's line text in the client's language (Danish, Norwegian, else English)."""
    template = _CREDIT_TEXT.get(country.upper(), "Credit of invoice {number}")
    return template.format(number=invoice_number)


def need_layout(config: Config, fallback: int | None, doing: str) -> int:
    """The layout setting, else ``fallback`` (the invoice's or customer's); one is needed."""
    layout = config.layout_number or fallback
    if layout is None:
        raise SettingsError(
            f"{doing}: e-conomic needs a layout and neither the setting layout_number nor the"
            " customer names one (hub clients set CLIENT layout_number=N)"
        )
    return layout


def reference_of(booked: Any, client: EconomicClient, path: str) -> str:
    """The reference the hub gets for a booked invoice or credit note: its number, as text."""
    return str(drafts.booked_number(booked, f"{client.base_url}{path}"))
