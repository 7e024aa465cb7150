"""The options many commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ClientOption = Annotated[str, typer.Option("--client", help="Client name.")]
SomeClientOption = Annotated[str | None, typer.Option("--client", help="Client name.")]
