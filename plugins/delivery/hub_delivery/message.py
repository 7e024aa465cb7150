"""Building the RFC 5322 message both delivery plugins send: one place, one format.

:func:`build_email` turns a :class:`hub.model.OutgoingMessage` into an
:class:`email.message.EmailMessage`: ``From``, ``To``, ``Reply-To``, ``Subject``, ``Date``, a
``Message-ID`` derived from the idempotency key alone (:func:`message_id`), ``Content-Language``,
``Auto-Submitted: auto-generated`` and the hub's own ``X-Hub-Kind`` and ``X-Hub-Customer``; the
body is ``text/plain; charset=utf-8`` in quoted-printable, so it is 7-bit clean on any channel
and æ, ø and å survive. Non-ASCII names and subjects become RFC 2047 encoded words.

Header text from the core (names, subject) has its line breaks and runs of white space folded
into single spaces: a header can never be split into two by a value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email import policy
from email.headerregistry import Address, Group
from email.message import EmailMessage
from email.utils import format_datetime

from hub.model import OutgoingMessage

#: The ``From`` address when a message has no sender e-mail (letters for paper): ``.invalid``
#: is reserved (RFC 2606), so nothing can ever be delivered to it.
PLACEHOLDER_ADDRESS = "noreply@invalid"

#: The right-hand side of a ``Message-ID`` when the sender address gives no usable domain.
FALLBACK_DOMAIN = "receivables-hub.invalid"

#: How messages are written: CRLF line ends (RFC 5322), encoded words for non-ASCII headers.
POLICY = policy.SMTP

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def header_text(value: str) -> str:
    """``value`` on one line: every run of white space (line breaks too) becomes one space."""
    return " ".join(value.split())


def parse_address(addr_spec: str, display_name: str = "") -> Address:
    """An :class:`Address` for ``addr_spec`` (``user@example.dk``) with ``display_name``.

    An internationalised domain (``æblegrød.dk``) is converted to its IDNA (``xn--``) form so
    the address stays ASCII. A local part with non-ASCII characters is refused.

    :raises ValueError: ``addr_spec`` is not a single plain e-mail address; says why.
    """
    text = addr_spec.strip()
    try:
        parsed = Address(addr_spec=text)
        username, domain = parsed.username, parsed.domain
        if not username or not domain:
            raise ValueError("it needs a local part, '@' and a domain")
        if not domain.isascii():
            domain = domain.encode("idna").decode("ascii")
        return Address(display_name=header_text(display_name), username=username, domain=domain)
    except Exception as exc:  # the email parser raises several unrelated types
        reason = str(exc) or type(exc).__name__
        raise ValueError(f"{text!r} is not a usable e-mail address ({reason})") from None


def domain_of(address: str) -> str | None:
    """The domain of ``address`` if it is a plain DNS name (usable in a Message-ID)."""
    domain = address.rpartition("@")[2].strip().lower()
    return domain if domain != "invalid" and _DOMAIN.fullmatch(domain) else None


def message_id(idempotency_key: str, domain: str | None = None) -> str:
    """The ``Message-ID`` of the message with ``idempotency_key``: the same key, the same id.

    ``<hub-`` + the first 40 hex digits of the key's SHA-256 + ``@`` + ``domain`` (the sender's
    domain, so that ids of different senders never meet) ``>``. Receivers that drop duplicate
    Message-IDs therefore drop a repeated delivery.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<hub-{digest[:40]}@{domain or FALLBACK_DOMAIN}>"


def build_email(
    message: OutgoingMessage,
    *,
    from_address: str,
    reply_to: str | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The e-mail for ``message``, from ``message.sender_name <from_address>``.

    ``To`` is ``recipient_name <recipient_email>``, or, for a letter without an e-mail address,
    the recipient's name alone as an empty RFC 5322 group (``Name:;``): the name is kept, and no
    mail system can mistake it for an address.

    :raises ValueError: ``from_address``, ``reply_to`` or the recipient's e-mail address is not
        a usable e-mail address; the text says which.
    """
    sender = _address(from_address, message.sender_name, "sender address")
    email = EmailMessage(policy=POLICY)
    email["From"] = sender
    if message.recipient_email is not None and message.recipient_email.strip():
        email["To"] = _address(
            message.recipient_email,
            message.recipient_name,
            f"e-mail address of customer {message.customer_number}",
        )
    else:
        email["To"] = Group(display_name=header_text(message.recipient_name), addresses=())
    if reply_to is not None and reply_to.strip():
        email["Reply-To"] = _address(reply_to, message.sender_name, "reply-to (sender e-mail)")
    email["Subject"] = header_text(message.subject)
    email["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    email["Message-ID"] = message_id(message.idempotency_key, domain_of(sender.addr_spec))
    email["Auto-Submitted"] = "auto-generated"
    email["X-Hub-Kind"] = header_text(message.kind)
    email["X-Hub-Customer"] = header_text(message.customer_number)
    email.set_content(message.body, charset="utf-8", cte="quoted-printable")
    email["Content-Language"] = header_text(message.language)  # after: set_content clears it
    return email


def _address(addr_spec: str, display_name: str, what: str) -> Address:
    try:
        return parse_address(addr_spec, display_name)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def to_bytes(email: EmailMessage) -> bytes:
    """The message as bytes, CRLF line ends, ready to be written to an ``.eml`` file."""
    return email.as_bytes(policy=POLICY)
