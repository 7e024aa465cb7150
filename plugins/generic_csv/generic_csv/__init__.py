"""Receivables hub plugin for any accounting program that can export and import CSV files.

Reads open invoices (and optionally customers) from CSV exports and writes credit notes,
vouchers, invoices and orders as one CSV file each into an outbox directory. The hooks live in
:mod:`generic_csv.plugin`; see the package README for settings and formats.
"""

from __future__ import annotations

from hub.toolkit.plugin import version_of

DISTRIBUTION = "receivables-hub-generic-csv"
__version__ = version_of(DISTRIBUTION)

__all__ = ["DISTRIBUTION", "__version__"]
