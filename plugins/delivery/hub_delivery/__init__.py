"""Receivables hub delivery plugins: how rendered letters and e-mails leave the hub.

Two plugins of kind ``delivery``, each its own entry point in group ``receivables_hub``:

* :mod:`hub_delivery.file_outbox` writes each message as one ``.eml`` file into a directory,
  exactly once per idempotency key;
* :mod:`hub_delivery.smtp` sends each message to the customer's e-mail address over SMTP.

Both build the message with :mod:`hub_delivery.message`. See the package README for settings.
"""

from __future__ import annotations

import importlib.metadata

DISTRIBUTION = "receivables-hub-delivery"

try:
    __version__ = importlib.metadata.version(DISTRIBUTION)
except importlib.metadata.PackageNotFoundError:  # running from a source tree, not installed
    __version__ = "0.0.0"

__all__ = ["DISTRIBUTION", "__version__"]
