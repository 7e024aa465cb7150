"""Receivables hub plugin ``norwegian_invoicing``: Tripletex over its REST API v2.

See the README beside this package for settings, capabilities and what each hook does.
"""

from __future__ import annotations

__version__ = "0.1.0"
