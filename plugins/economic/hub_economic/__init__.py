"""Receivables hub plugin for Visma e-conomic, over e-conomic's REST API.

Reads open booked invoices, invoice states, customers and balances; books credit notes and
invoices (draft, then book), leaves orders as draft invoices for a person, and posts write-off
vouchers to a journal. The hooks live in :mod:`hub_economic.plugin`; see the package README for
settings, capabilities and what each hook sends.
"""

from __future__ import annotations

from hub.toolkit.plugin import version_of

DISTRIBUTION = "receivables-hub-economic"
__version__ = version_of(DISTRIBUTION)

__all__ = ["DISTRIBUTION", "__version__"]
