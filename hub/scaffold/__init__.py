"""``hub plugins new NAME``: a new accounting plugin package that works from the start.

The package is written from the templates in ``hub/scaffold/template``: ``*.tmpl`` files are
filled in with :class:`string.Template` (``${name}``, ``${package}``, ...) and lose the suffix,
other files are copied as they are, and the folder ``package`` becomes ``hub_NAME``. What comes
out is a plugin (hooks, an HTTP client on :func:`hub.toolkit.http.make_client`, the mapping of
records
to :mod:`hub.model` values), a small fake of "the NAME API" to run against, and the
conformance kit's tests wired to that fake, passing as made. The templates are not Python
modules of the hub (they end in ``.tmpl``), so the hub's own ruff and mypy never see them; the
tests check what they generate with both.

The package is written whole or not at all: into a staging folder first (a hidden sibling of
a new target, or a hidden folder inside an existing empty one, so that the final move stays on
one file system), moved into place at the end, and removed on any failure.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import keyword
import re
import secrets
import shutil
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from hub import __version__
from hub.errors import InputError
from hub.plugins import ENTRY_POINT_GROUP
from hub.records import record_dict

__all__ = [
    "DEMO_PORT",
    "DEMO_TOKEN",
    "MAX_NAME_LENGTH",
    "PluginNames",
    "hub_requirement",
    "new_plugin",
    "plugin_names",
]

MAX_NAME_LENGTH = 24
TEMPLATE_SUFFIX = ".tmpl"
#: The template folder that becomes the plugin's package (``hub_NAME``).
PACKAGE_FOLDER = "package"
#: What the generated fake (``python -m hub_NAME.fake``) serves on and accepts by default;
#: the fake, its README and the CLI's next steps all say these.
DEMO_PORT = 8765
DEMO_TOKEN = "demo-token"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_VERSION = re.compile(r"(\d+)\.(\d+)")
_SKIPPED = {"__pycache__", ".DS_Store"}
_STAGING = ".hub-new-"


def normalized_distribution_name(name: str) -> str:
    """``name`` as PEP 503 compares distribution names: lowercase, runs of ``-_.`` one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def hub_requirement(version: str = __version__) -> str:
    """The hub versions a new plugin depends on: from ``version`` (the hub it was made and
    tested with) up to the next minor while the hub is 0.x, the next major from 1.0 on."""
    found = _VERSION.match(version)
    if found is None:
        raise ValueError(f"hub version {version!r} is not MAJOR.MINOR...")
    major, minor = int(found[1]), int(found[2])
    upper = f"{major}.{minor + 1}" if major == 0 else str(major + 1)
    return f"receivables-hub>={version},<{upper}"


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
            **record_dict(self),
            "hub_version": __version__,
            "hub_requirement": hub_requirement(),
            "demo_port": str(DEMO_PORT),
            "demo_token": DEMO_TOKEN,
        }


def _refuse(name: str, reason: str) -> InputError:
    return InputError(f"plugin name {name!r} is refused: {reason}")


def _importable(package: str) -> str | None:
    """Where ``package`` is imported from here, or None when it is not importable."""
    try:
        spec = importlib.util.find_spec(package)
    except ValueError:  # in sys.modules without a spec: there all the same
        return "already imported"
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        return spec.origin
    return ", ".join(spec.submodule_search_locations or []) or spec.origin or "found"


def _installed_distribution(distribution: str) -> str | None:
    """The installed distribution whose name is ``distribution`` (PEP 503), with its version."""
    wanted = normalized_distribution_name(distribution)
    for dist in importlib.metadata.distributions():
        installed = dist.metadata["Name"]
        if installed and normalized_distribution_name(installed) == wanted:
            return f"{installed} {dist.version}"
    return None


def plugin_names(name: str) -> PluginNames:
    """Check ``name`` and derive the package's names from it.

    :raises InputError: ``name`` is not a lowercase identifier (``[a-z][a-z0-9_]*``), is a
        Python keyword, holds ``__`` or ends with ``_``, is longer than
        :data:`MAX_NAME_LENGTH`, clashes with ``hub`` (``hub``, ``hub_...``), or clashes with
        what is installed: a plugin of that name, a module ``hub_NAME`` that can be imported,
        or a distribution called ``receivables-hub-NAME`` (as PEP 503 compares names).
    """
    if not _NAME.fullmatch(name):
        raise _refuse(
            name,
            "use lowercase letters, digits and underscores, starting with a letter"
            " (e.g. acme or acme_books)",
        )
    if keyword.iskeyword(name):
        raise _refuse(name, "it is a Python keyword")
    if "__" in name:
        raise _refuse(
            name,
            "it holds '__' (the distribution name would be the same as with one '_':"
            f" give {re.sub('_+', '_', name)!r})",
        )
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
    names = PluginNames(
        name=name,
        package=f"hub_{name}",
        distribution=f"receivables-hub-{name.replace('_', '-')}",
        title=" ".join(w.capitalize() for w in words if w),
        class_name="".join(w.capitalize() for w in words if w),
    )
    module = _importable(names.package)
    if module is not None:
        raise _refuse(
            name,
            f"its package {names.package} is already installed here ({module});"
            " installing the new plugin would replace it",
        )
    distribution = _installed_distribution(names.distribution)
    if distribution is not None:
        raise _refuse(
            name,
            f"its distribution {names.distribution} is already installed ({distribution});"
            " installing the new plugin would replace it",
        )
    return names


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


def _check_directory(directory: Path) -> bool:
    """Whether ``directory`` exists (and is empty).

    :raises InputError: it is a file, a directory that is not empty, or under a file.
    """
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is a file, not a directory to write the plugin into")
    if directory.is_dir():
        if any(directory.iterdir()):
            raise InputError(
                f"directory {directory} is not empty; give a new or empty one (--directory DIR)"
            )
        return True
    for ancestor in directory.absolute().parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise InputError(
                    f"cannot write the plugin into {directory}: {ancestor} is a file,"
                    " not a directory"
                )
            break
    return False


def _cannot_write(directory: Path, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None and str(exc.filename) != str(directory):
        reason = f"{reason} ({exc.filename})"
    return InputError(f"cannot write the plugin into {directory}: {reason}")


def _write(
    names: PluginNames, templates: list[tuple[tuple[str, ...], Traversable]], root: Path
) -> list[tuple[str, ...]]:
    """Write the package into ``root`` (an empty directory); return the files' paths as parts."""
    values = names.substitutions()
    made: list[tuple[str, ...]] = []
    for parts, template in templates:
        if parts[0] == PACKAGE_FOLDER:
            parts = (names.package, *parts[1:])
        if parts[-1].endswith(TEMPLATE_SUFFIX):
            parts = (*parts[:-1], parts[-1].removesuffix(TEMPLATE_SUFFIX))
            text = Template(template.read_text(encoding="utf-8")).substitute(values)
            target = root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        else:
            target = root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(template.read_bytes())
        made.append(parts)
    return made


def _missing_folders(directory: Path) -> list[Path]:
    """The folders above ``directory`` that do not exist yet, the deepest first."""
    missing = []
    for ancestor in directory.parents:
        if ancestor.exists():
            break
        missing.append(ancestor)
    return missing


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _place(names: PluginNames, directory: Path, exists: bool) -> list[tuple[str, ...]]:
    """Write the package to a staging folder and move it into ``directory``, or leave nothing
    (neither the staging folder nor folders made above ``directory``) on any failure."""
    templates = _templates(files(__name__) / "template")
    target = directory.resolve()
    created = [] if exists else _missing_folders(target)
    if exists:  # inside: its parent may be another file system, or not writable
        staging = target / f"{_STAGING}{secrets.token_hex(4)}"
    else:
        staging = target.parent / f".{target.name}{_STAGING}{secrets.token_hex(4)}"
    moved: list[Path] = []
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        made = _write(names, templates, staging)
        if exists:
            for entry in sorted(staging.iterdir()):
                moved.append(entry.replace(target / entry.name))
            staging.rmdir()
        else:
            staging.rename(target)
    except BaseException:
        for path in (*moved, staging):
            _remove(path)
        for folder in created:  # the deepest first; one someone else wrote into stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return made


def new_plugin(name: str, directory: Path) -> list[Path]:
    """Write a new plugin package called ``name`` into ``directory``; return the files made.

    :raises InputError: the name is refused (see :func:`plugin_names`), ``directory`` exists
        and is not an empty directory, or it cannot be written (the message names the path
        and the reason). Nothing is left written then.
    """
    names = plugin_names(name)
    try:
        exists = _check_directory(directory)
        made = _place(names, directory, exists)
    except OSError as exc:
        raise _cannot_write(directory, exc) from exc
    return [directory.joinpath(*parts) for parts in made]
