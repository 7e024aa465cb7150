"""The hub's error types.

Every error the hub shows a user is a :class:`HubError`. Each says what went wrong and names the
thing (client, setting, file and line, invoice, plugin) and the reason; the CLI maps them to exit
codes: :class:`InputError` and its subclasses are the user's input (exit 2), everything else is an
operation that failed (exit 1).

Plugins raise the accounting errors below (``AuthError``, ``ThrottledError``, ...) so that the core,
the scheduler and the conformance kit can treat every accounting system alike.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub reports to a user."""

    exit_code = 1


class InputError(HubError):
    """Wrong input from a user: a CLI argument, a setting, a rule. Exit code 2."""

    exit_code = 2


class NotFoundError(InputError):
    """A named thing (client, plugin, invoice, case) does not exist."""


class ForbiddenError(InputError):
    """The acting user may see the thing but not change it (a viewer, or a consultant acting
    outside the clients assigned to them). A thing the user may not even see is a
    :class:`NotFoundError`, so that its existence is not given away."""


class ConflictError(InputError):
    """The thing is busy or in a state that refuses the change now (another run holds it, it
    exists already): the same request may succeed later or once the state is changed. The
    console's API answers it 409."""


class SettingsError(InputError):
    """A plugin setting is unknown, missing, or of the wrong type."""


class StorageError(HubError):
    """The database is unreachable, not migrated, or refused a write."""


class SecretKeyError(HubError):
    """Secret settings cannot be encrypted or decrypted with the configured key."""


class PluginError(HubError):
    """An accounting plugin failed. ``plugin`` names it."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class CapabilityMissing(PluginError):
    """The client's plugin does not declare the capability an action needs."""


class InvalidDataError(PluginError):
    """Data from the accounting system (a file, a response) is malformed.

    ``where`` says where: a file with line and column, or a URL. Nothing from the offending
    file or response is stored.
    """

    def __init__(
        self, message: str, *, plugin: str | None = None, where: str | None = None
    ) -> None:
        super().__init__(f"{where}: {message}" if where else message, plugin=plugin)
        self.where = where


class AuthError(PluginError):
    """The accounting system refused the credentials (HTTP 401/403). Says which credential."""


class ThrottledError(PluginError):
    """The accounting system throttled us (HTTP 429) beyond what retrying could absorb."""

    def __init__(
        self, message: str, *, plugin: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, plugin=plugin)
        self.retry_after = retry_after


class RemoteServerError(PluginError):
    """The accounting system failed (HTTP 5xx, timeout, broken connection) after retries."""


class DeadlineError(RemoteServerError):
    """An HTTP exchange, or a whole sync, took longer than its deadline (``HUB_HTTP_DEADLINE``,
    ``HUB_SYNC_DEADLINE``): a server that answers slowly, or trickles its answer a byte at a
    time, is given up on. The message names the URL (or the client) and the deadline."""


class RemoteRequestError(PluginError):
    """The accounting system rejected a request (HTTP 4xx other than 401/403/429)."""
