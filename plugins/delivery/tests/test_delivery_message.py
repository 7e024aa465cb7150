"""The shared message builder: headers, Message-ID, addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email import policy
from email.parser import BytesParser

import pytest
from hub_delivery.message import (
    FALLBACK_DOMAIN,
    build_email,
    domain_of,
    message_id,
    parse_address,
    to_bytes,
)

from hub.model import OutgoingMessage

MakeMessage = Callable[..., OutgoingMessage]


def test_message_id_is_derived_from_the_key_alone() -> None:
    first = message_id("message:42", "blaabaer.dk")
    assert first == message_id("message:42", "blaabaer.dk")
    assert first != message_id("message:43", "blaabaer.dk")
    assert first.startswith("<hub-") and first.endswith("@blaabaer.dk>")
    assert message_id("message:42").endswith(f"@{FALLBACK_DOMAIN}>")


def test_domain_of() -> None:
    assert domain_of("faktura@Blaabaer.DK") == "blaabaer.dk"
    assert domain_of("noreply@invalid") is None
    assert domain_of("x@[1.2.3.4]") is None


def test_parse_address_converts_an_idn_domain_and_refuses_junk() -> None:
    address = parse_address("ole@æblegrød.dk", "Ole")
    assert address.addr_spec == "ole@xn--blegrd-oua3m.dk"
    for junk in ["", "ole", "ole@", "@x.dk", "a b@x.dk", "a@b@c", "a@b\nBcc: x@y", "øle@x.dk"]:
        with pytest.raises(ValueError, match="not a usable e-mail address"):
            parse_address(junk)


def test_build_email_headers_and_body(make_message: MakeMessage) -> None:
    now = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    email = build_email(
        make_message(subject="Påmindelse\r\nBcc: evil@example.com"),
        from_address="faktura@blaabaer.dk",
        reply_to="bogholderi@blaabaer.dk",
        now=now,
    )
    raw = to_bytes(email)
    assert raw.isascii()  # 7-bit clean: encoded words and quoted-printable
    assert b"\r\n" in raw
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["From"].addresses[0].display_name == "Blåbær ApS"
    assert parsed["From"].addresses[0].addr_spec == "faktura@blaabaer.dk"
    assert parsed["Reply-To"].addresses[0].addr_spec == "bogholderi@blaabaer.dk"
    assert parsed["To"].addresses[0].display_name == "Søren Ærø"
    assert parsed["Subject"] == "Påmindelse Bcc: evil@example.com"
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"] == message_id("message:42", "blaabaer.dk")
    assert parsed["Date"].datetime == now
    assert parsed["Content-Language"] == "da"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Hub-Kind"] == "reminder_1"
    assert parsed["X-Hub-Customer"] == "1001"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content().replace("\r\n", "\n") == make_message().body


def test_build_email_refuses_a_bad_recipient_address(make_message: MakeMessage) -> None:
    with pytest.raises(ValueError, match="e-mail address of customer 1001"):
        build_email(make_message(recipient_email="not an address"), from_address="a@b.dk")
