"""The file outbox writes real .eml files, once per idempotency key."""

from __future__ import annotations

import os
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from hub_delivery import file_outbox
from hub_delivery.message import message_id

from hub.errors import RemoteRequestError, RemoteServerError, SettingsError
from hub.model import ClientContext, OutgoingMessage

MakeMessage = Callable[..., OutgoingMessage]
MakeCtx = Callable[..., ClientContext]


def _parse(path: Path) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_writes_one_eml_file_that_parses_back(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    outbox = tmp_path / "out" / "box"
    ctx = make_ctx(file_outbox, directory=str(outbox))
    reference = file_outbox.deliver_message(ctx=ctx, message=make_message())
    assert reference == "message%3A42.eml"
    assert sorted(p.name for p in outbox.iterdir()) == [reference]
    email = _parse(outbox / reference)
    sender = email["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Blåbær ApS", "bogholderi@blaabaer.dk")
    recipient = email["To"].addresses[0]
    assert (recipient.display_name, recipient.addr_spec) == ("Søren Ærø", "soren@example.dk")
    assert email["Subject"] == "Påmindelse: faktura 123 på 1.250,00 kr."
    assert email["Message-ID"] == message_id("message:42", "blaabaer.dk")
    assert email["X-Hub-Kind"] == "reminder_1"
    assert email["X-Hub-Customer"] == "1001"
    body = email.get_content().replace("\r\n", "\n")
    assert body == "Kære Søren Ærø\n\nFaktura 123 er forfalden. Venlig hilsen\nBlåbær ApS\n"
    assert "æ" in body and "ø" in body and "å" in body


def test_a_repeat_is_a_no_op_with_the_same_reference(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    ctx = make_ctx(file_outbox, directory=str(tmp_path))
    first = file_outbox.deliver_message(ctx=ctx, message=make_message())
    content = (tmp_path / first).read_bytes()
    # Same key, even with other content (the core's repeat after a crash): the first one stays.
    again = file_outbox.deliver_message(ctx=ctx, message=make_message(subject="Anden tekst"))
    assert again == first
    assert os.listdir(tmp_path) == [first]
    assert (tmp_path / first).read_bytes() == content
    other = file_outbox.deliver_message(ctx=ctx, message=make_message(idempotency_key="message:43"))
    assert other == "message%3A43.eml"
    assert sorted(os.listdir(tmp_path)) == [first, other]


def test_a_letter_without_e_mail_keeps_the_name_and_a_placeholder_sender(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    ctx = make_ctx(file_outbox, directory=str(tmp_path))
    message = make_message(recipient_email=None, sender_email=None, kind="closing_confirmation")
    reference = file_outbox.deliver_message(ctx=ctx, message=message)
    email = _parse(tmp_path / reference)
    assert email["To"].addresses == ()
    assert email["To"].groups[0].display_name == "Søren Ærø"
    assert email["From"].addresses[0].display_name == "Blåbær ApS"
    assert email["From"].addresses[0].addr_spec == "noreply@invalid"
    assert email["Message-ID"].endswith("@receivables-hub.invalid>")
    assert email["X-Hub-Kind"] == "closing_confirmation"


def test_keys_are_escaped_into_the_directory(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    ctx = make_ctx(file_outbox, directory=str(tmp_path / "out"))
    reference = file_outbox.deliver_message(
        ctx=ctx, message=make_message(idempotency_key="../../etc/passwd")
    )
    assert reference == "..%2F..%2Fetc%2Fpasswd.eml"
    assert (tmp_path / "out" / reference).is_file()
    long_a = file_outbox.deliver_message(ctx=ctx, message=make_message(idempotency_key="k" * 300))
    long_b = file_outbox.deliver_message(
        ctx=ctx, message=make_message(idempotency_key="k" * 299 + "j")
    )
    assert long_a != long_b
    assert all(len(name) <= file_outbox.MAX_NAME for name in (long_a, long_b))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [reference, long_a, long_b]
    )  # no temporary files left behind


def test_settings_and_write_failures(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    with pytest.raises(SettingsError, match="setting directory is required"):
        file_outbox.deliver_message(ctx=make_ctx(file_outbox), message=make_message())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(RemoteServerError, match="cannot write"):
        file_outbox.deliver_message(
            ctx=make_ctx(file_outbox, directory=str(blocker / "outbox")), message=make_message()
        )
    with pytest.raises(RemoteRequestError, match="e-mail address of customer 1001"):
        file_outbox.deliver_message(
            ctx=make_ctx(file_outbox, directory=str(tmp_path / "out")),
            message=make_message(recipient_email="soren at example"),
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_letters_are_private_to_the_hubs_user(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    """A letter holds a customer's name, address and debt: 0600, in a directory made 0700
    (every directory the plugin makes), whatever the umask would have given."""
    outbox = tmp_path / "letters" / "acme"
    ctx = make_ctx(file_outbox, directory=str(outbox))
    umask = os.umask(0o022)
    try:
        name = file_outbox.deliver_message(ctx=ctx, message=make_message())
    finally:
        os.umask(umask)
    assert (outbox / name).stat().st_mode & 0o777 == 0o600
    assert outbox.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "letters").stat().st_mode & 0o777 == 0o700


def test_an_existing_outbox_directory_keeps_its_mode(
    tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    outbox = tmp_path / "shared"
    outbox.mkdir()
    outbox.chmod(0o750)  # the operator lets a print service's group in
    file_outbox.deliver_message(
        ctx=make_ctx(file_outbox, directory=str(outbox)), message=make_message()
    )
    assert outbox.stat().st_mode & 0o777 == 0o750
