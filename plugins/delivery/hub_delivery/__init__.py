"""Receivables hub delivery plugins: how rendered letters and e-mails leave the hub.

Two plugins of kind ``delivery``, each its own entry point in group ``receivables_hub``:

* :mod:`hub_delivery.file_outbox` writes each message as one ``.eml`` file into a directory,
  exactly once per idempotency key;
* :mod:`hub_delivery.smtp` sends each message to the customer's e-mail address over SMTP.

Both build the message with :mod:`hub_delivery.message`. See the package README for settings.
"""

from __future__ import annotations

from hub.toolkit.plugin import version_of

DISTRIBUTION = "receivables-hub-delivery"
__version__ = version_of(DISTRIBUTION)

__all__ = ["DISTRIBUTION", "__version__"]
