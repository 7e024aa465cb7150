"""What the demo's two clients on an accounting system's API share: a fake of it served over
real HTTP on loopback, whose URL and the number of requests it answered the story tells."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.demo.timeline import Scenario
from hub.operations.context import Context
from hub.testing.fakes.app import FakeApplication
from hub.testing.fakes.http import FakeHttpServer

__all__ = ["ServedScenario", "ServedStory"]


@dataclass
class ServedStory:
    """Where the fake server was, and how many requests it answered."""

    url: str = ""
    requests: int = 0


class ServedScenario(Scenario):
    """A client whose accounting system is :attr:`fake`, served by :meth:`server` on ``start``;
    its letters go to ``letters/<client>`` below the demo's folder."""

    fake: FakeApplication[Any, Any]
    story: ServedStory

    def __init__(self, base: Path) -> None:
        self.letters = base / "letters" / self.client

    def server(self) -> FakeHttpServer:
        """The fake served (not yet started)."""
        raise NotImplementedError

    def setup(self, ctx: Context, url: str) -> str:
        """Set the client up against the fake at ``url``; what it is, in a line."""
        raise NotImplementedError

    def start(self, ctx: Context, stack: ExitStack) -> list[str]:
        server = stack.enter_context(self.server())
        self.story.url = server.url
        return [self.setup(ctx, server.url)]

    def finish(self) -> None:
        self.story.requests = len(self.fake.requests)
