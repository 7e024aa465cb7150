"""A small cache of parsed files, so one sync reads the export once, not once per hook.

A sync calls four hooks that all need the invoices file. The cache key is a hash of the file's
bytes plus every setting that changes how it is read, so a changed file is always read afresh.
(File times are no key: Linux stamps them with a coarse clock, so a file rewritten in place
within a few milliseconds can keep its size and modification time.) Hashing costs about 1 % of
parsing. The cached values are immutable and hold only what the file says, so clients that
name the same file share nothing they could not read themselves.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SIZE = 8
_entries: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def cached(path: Path, data: bytes, settings_key: Hashable, load: Callable[[], T]) -> T:
    """``load()``'s result for ``data``, the bytes just read from ``path``; loaded afresh when
    they changed. The caller reads the file once (bounded, see
    :func:`generic_csv.table.read_file`) and ``load`` parses those same bytes.
    """
    digest = hashlib.blake2b(data, digest_size=32).digest()
    key = (str(path), digest, settings_key)
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = load()
    with _lock:
        _entries[key] = value
        while len(_entries) > _SIZE:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
