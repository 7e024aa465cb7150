"""The ``hub`` command's sub-commands, each imported only when it runs.

Every command module imports what its command needs (the database, the domain through the
operations, the plugins), and typer builds every parameter of every command it is given. The
root group below knows its sub-commands by where they live and by the one line ``hub --help``
shows for each: ``hub --help`` imports none of them, and ``hub clients list`` imports the
``clients`` module alone. ``tests/test_cli_startup.py`` holds each line to the command's own
help and counts the modules each start imports.

Every command made here is also given plain help (:func:`plain_help`): typer 0.29 labels each
parameter with its Python type (``--json <bool>``, ``--client <str>``, an argument
``case_id <int>``) and writes a required argument ``{case_id}`` in the usage line. The help
shows instead what a person types: nothing after a flag, a value's name after an option that
takes one (``--client CLIENT``, or the metavar the option declares, such as ``KEY=PATH``), the
choices where there are some, and an argument in capitals (``hub cases payment CASE_ID``).
The classes below reach into typer's parameter classes, which is why ``pyproject.toml`` holds
typer to the minor version tested (``tests/test_cli_help.py`` walks every command's help).

They also coerce a parameter's value the way typer does, but build typer's coercion (a Pydantic
``TypeAdapter``, and Pydantic with it: a tenth of a second) only for a value that needs one:
typer builds it for every parameter of the command that runs, also for an option not given
(None, which it returns without using it) and for text, which its adapter returns as it is. See
:class:`_DeferredCoercion`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import typer
import typer.main
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption, _TyperParameter
from typer.models import CommandInfo, TyperInfo

#: Set in a context's ``meta`` while the root's help is written: its listing needs each
#: command's line only, so the command is not imported for it.
_SUMMARIES = "hub.cli.lazy.summaries"


@dataclass(frozen=True)
class _DeferredCoercion(RuntimeParam):
    """typer's coercion of one parameter's value (a :class:`RuntimeParam`), built on first use.

    ``RuntimeParam.coerce`` returns None (or ``()``) for a value not given without calling
    :meth:`_coerce_value`; a text parameter's text is returned as typer's adapter would return
    it (``str(value)``: its ``_parse_cli_str``, then Pydantic's lax ``str``, which keeps a
    ``str``). Any other value goes to typer's own coercion, built then, so its conversions and
    its errors are typer's."""

    descriptor: TypeDescriptor

    @cached_property
    def typers(self) -> RuntimeParam:
        return build_runtime_param(self.descriptor)

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if (
            type(value) is str
            and self.annotation is str
            and self.parameter_info.parser is None
            and self.descriptor.file_annotation is None
        ):
            return value
        return self.typers._coerce_value(value, param=param, ctx=ctx)


def _deferred_runtime_param(self: _TyperParameter) -> RuntimeParam:
    """A typer parameter's ``get_runtime_param``: a :class:`_DeferredCoercion` (see the
    module's docstring)."""
    if self._runtime_param is None:
        described = self.type_descriptor
        self._runtime_param = _DeferredCoercion(
            parameter_info=described.parameter_info,
            annotation=described.annotation,
            descriptor=described,
        )
    return self._runtime_param


class _PlainOption(TyperOption):
    """An option shown with the value it takes, not its type (see the module's docstring)."""

    get_runtime_param = _deferred_runtime_param

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        if self.type_descriptor.is_choice:
            return self.display_type(ctx).strip("<>")  # typer writes them <a|b>
        long = next((opt for opt in self.opts if opt.startswith("--")), self.opts[0])
        return long.lstrip("-").replace("-", "_").upper()


class _PlainArgument(TyperArgument):
    """An argument shown by its name in capitals, without its type, and in the usage line
    without braces: ``CASE_ID``, ``[CLIENT]`` when it may be left out."""

    get_runtime_param = _deferred_runtime_param

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


def plain_help(command: Any) -> Any:
    """``command`` and its sub-commands, with plain help (see the module's docstring): the
    parameters' classes swapped for the two above, which change how they are shown only; and
    each command's line in its group's listing made one line (typer's rich help would keep
    the line breaks of the docstring)."""
    made = command.context_class(command, **command.context_settings)
    for param in [*command.params, command.get_help_option(made)]:  # --help is made apart
        if type(param) is TyperOption:
            param.__class__ = _PlainOption
        elif type(param) is TyperArgument:
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            param.__class__ = _PlainArgument
    if command.short_help is None and command.help:
        command.short_help = " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())
    if not isinstance(command, LazyGroup):  # the root's are made plain as they are loaded
        for sub in getattr(command, "commands", {}).values():
            plain_help(sub)
    return command


@dataclass(frozen=True)
class Lazy:
    """A sub-command: ``attribute`` of ``module`` (a :class:`typer.Typer` for a group of
    commands, a function for one command) and ``summary``, the first paragraph of its help,
    which ``hub --help`` lists. A group's help ends as its ``typer.Typer(epilog=...)`` says, a
    function's as its module's ``EPILOG`` (an example of the command)."""

    module: str
    attribute: str
    summary: str

    def load(self, name: str, group: TyperGroup) -> Any:
        """The click command, made as ``add_typer``/``command`` would have made it."""
        module = importlib.import_module(self.module)
        target = getattr(module, self.attribute)
        if isinstance(target, typer.Typer):
            return plain_help(
                typer.main.get_group_from_info(
                    TyperInfo(target, name=name),
                    pretty_exceptions_short=True,
                    rich_markup_mode=group.rich_markup_mode,
                    suggest_commands=group.suggest_commands,
                )
            )
        return plain_help(
            typer.main.get_command_from_info(
                CommandInfo(name=name, callback=target, epilog=getattr(module, "EPILOG", None)),
                pretty_exceptions_short=True,
                rich_markup_mode=group.rich_markup_mode,
            )
        )


class _Commands(MutableMapping[str, Any]):
    """A group's ``commands``: every name known at once, a command made on first use."""

    def __init__(self, group: LazyGroup, loaded: MutableMapping[str, Any]) -> None:
        self._group = group
        self._loaded = loaded

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._group.lazy[name].load(name, self._group)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the hub's commands are fixed")

    def __iter__(self) -> Iterator[str]:
        yield from self._group.lazy
        yield from (name for name in self._loaded if name not in self._group.lazy)

    def __len__(self) -> int:
        return len(set(self._group.lazy) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._group.lazy or name in self._loaded


class LazyGroup(TyperGroup):
    """A typer group whose sub-commands (:attr:`lazy`, in the order listed) are imported when
    they run, or when their own help is asked for; see the module's docstring."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self, self.commands)
        plain_help(self)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names, without making the commands

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            return None
        entry = self.lazy.get(cmd_name)
        if ctx.meta.get(_SUMMARIES) and entry is not None:
            return TyperCommand(
                name=cmd_name,
                help=entry.summary,
                short_help=" ".join(entry.summary.split()),
                rich_markup_mode=self.rich_markup_mode,
            )
        return self.commands[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_SUMMARIES] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            del ctx.meta[_SUMMARIES]

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _USAGE_ERROR as exc:
            if type(exc).__name__ == "NoSuchOption":
                _hint_global_option(self, exc)
            raise


#: click's ``UsageError`` (typer raises click's errors; newer typers bring their own click):
#: a sub-command's "No such option" is one.
_USAGE_ERROR: type[Exception] = next(
    kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "UsageError"
)


def _hint_global_option(root: TyperGroup, exc: Any) -> None:
    """Say where a global option (``--db``, ``--today``, ...) goes when ``exc`` (click's
    ``NoSuchOption``) is about one that came after the command."""
    for param in root.params:
        names = [*param.opts, *param.secondary_opts]
        if exc.option_name not in names or not getattr(param, "expose_value", True):
            continue
        name = max(names, key=len)  # --verbose, not -v
        value = "" if getattr(param, "is_flag", False) else f" {param.metavar or 'VALUE'}"
        path = exc.ctx.command_path if exc.ctx is not None else root.name
        program, _, command = str(path).partition(" ")
        exc.message = (
            f"{exc.option_name} is a global option: put it before the command:"
            f" {program} {name}{value} {command}".rstrip()
        )
        exc.possibilities = None
        return


def lazy_group(commands: Mapping[str, Lazy]) -> type[LazyGroup]:
    """A :class:`LazyGroup` class with ``commands``, for ``typer.Typer(cls=...)``."""
    return type("HubGroup", (LazyGroup,), {"lazy": dict(commands)})
