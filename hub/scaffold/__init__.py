"""``hub plugins new NAME``: a new accounting plugin package that works from the start.

The package is written from the templates in ``hub/scaffold/template``: ``*.tmpl`` files are
filled in with :class:`string.Template` (``${name}``, ``${package}``, ...) and lose the suffix,
other files are copied as they are, and the folder ``package`` becomes ``hub_NAME``. What comes
out is a plugin (hooks, an HTTP client on :func:`hub.http.make_client`, the mapping of records
to :mod:`hub.model` values), a small fake of "the NAME API" to run against, and the
conformance kit's tests wired to that fake, passing as made. The templates are not Python
modules of the hub (they end in ``.tmpl``), so the hub's own ruff and mypy never see them; the
tests check what they generate with both.
"""

from __future__ import annotations

import importlib.metadata
import keyword
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from hub import __version__
from hub.errors import InputError
from hub.plugins import ENTRY_POINT_GROUP

__all__ = ["MAX_NAME_LENGTH", "PluginNames", "new_plugin", "plugin_names"]

MAX_NAME_LENGTH = 24
TEMPLATE_SUFFIX = ".tmpl"
#: The template folder that becomes the plugin's package (``hub_NAME``).
PACKAGE_FOLDER = "package"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SKIPPED = {"__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class PluginNames:
    """The names of a plugin called ``name``: what the templates are filled in with."""

    name: str  # the entry point name, the plugin's name in the hub
    package: str  # hub_NAME
    distribution: str  # receivables-hub-NAME, with "-" for "_" as pip shows it
    title: str  # "Acme Books" for acme_books: the title users see, to be replaced
    class_name: str  # AcmeBooks, for the test class

    def substitutions(self) -> dict[str, str]:
        return {
            "name": self.name,
            "package": self.package,
            "distribution": self.distribution,
            "title": self.title,
            "class_name": self.class_name,
            "hub_version": __version__,
        }


def _refuse(name: str, reason: str) -> InputError:
    return InputError(f"plugin name {name!r} is refused: {reason}")


def plugin_names(name: str) -> PluginNames:
    """Check ``name`` and derive the package's names from it.

    :raises InputError: ``name`` is not a lowercase identifier (``[a-z][a-z0-9_]*``), is a
        Python keyword, ends with ``_``, is longer than :data:`MAX_NAME_LENGTH`, clashes with
        ``hub`` (``hub``, ``hub_...``), or is the name of a plugin already installed.
    """
    if not _NAME.fullmatch(name):
        raise _refuse(
            name,
            "use lowercase letters, digits and underscores, starting with a letter"
            " (e.g. acme or acme_books)",
        )
    if keyword.iskeyword(name):
        raise _refuse(name, "it is a Python keyword")
    if name.endswith("_"):
        raise _refuse(
            name,
            f"it ends with '_' (the distribution name receivables-hub-{name}"
            " must end with a letter or digit)",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise _refuse(name, f"it is longer than {MAX_NAME_LENGTH} characters")
    if name == "hub":
        raise _refuse(name, "it is the hub's own name")
    if name.startswith("hub_"):
        raise _refuse(
            name,
            f"it clashes with the hub's names: the package is called hub_NAME already,"
            f" so give {name.removeprefix('hub_')!r}",
        )
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            where = entry_point.dist.name if entry_point.dist is not None else entry_point.value
            raise _refuse(name, f"a plugin of that name is already installed ({where})")
    words = name.split("_")
    return PluginNames(
        name=name,
        package=f"hub_{name}",
        distribution=f"receivables-hub-{name.replace('_', '-')}",
        title=" ".join(w.capitalize() for w in words if w),
        class_name="".join(w.capitalize() for w in words if w),
    )


def _templates(
    folder: Traversable, parts: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Traversable]]:
    """Every template file under ``folder``, with its path as parts, in a stable order."""
    found: list[tuple[tuple[str, ...], Traversable]] = []
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name in _SKIPPED or item.name.endswith(".pyc"):
            continue
        if item.is_dir():
            found += _templates(item, (*parts, item.name))
        else:
            found.append(((*parts, item.name), item))
    return found


def _check_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is a file, not a directory to write the plugin into")
    if directory.is_dir() and any(directory.iterdir()):
        raise InputError(
            f"directory {directory} is not empty; give a new or empty one (--directory DIR)"
        )


def new_plugin(name: str, directory: Path) -> list[Path]:
    """Write a new plugin package called ``name`` into ``directory``; return the files made.

    :raises InputError: the name is refused (see :func:`plugin_names`) or ``directory`` exists
        and is not an empty directory. Nothing is written then.
    """
    names = plugin_names(name)
    _check_directory(directory)
    values = names.substitutions()
    made: list[Path] = []
    for parts, template in _templates(files(__name__) / "template"):
        if parts[0] == PACKAGE_FOLDER:
            parts = (names.package, *parts[1:])
        target = directory.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.name.endswith(TEMPLATE_SUFFIX):
            target = target.with_name(target.name.removesuffix(TEMPLATE_SUFFIX))
            text = Template(template.read_text(encoding="utf-8")).substitute(values)
            target.write_text(text, encoding="utf-8", newline="\n")
        else:
            target.write_bytes(template.read_bytes())
        made.append(target)
    return made
