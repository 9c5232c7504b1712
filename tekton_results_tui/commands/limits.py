"""How much of a dump the importer reads and builds, so no file can exhaust memory or time.

A real `kubectl get -o yaml|json` dump never comes near these: the API server refuses objects
over 3 MiB, Tekton objects nest a few dozen levels, and kubectl writes no YAML anchors. A file
that goes past one is refused object by object (or, for the file limits, as a whole) with a
line naming the limit; the other objects and files are imported.
"""

from __future__ import annotations

MIB = 1024 * 1024
MAX_FILE_BYTES = 2048 * MIB  # a whole dump file (or stdin) is read into memory: split bigger dumps
READ_CHUNK = 4 * MIB
MAX_OBJECT_BYTES = 3 * MIB  # the API server's request size limit: no stored run is bigger
MAX_DEPTH = 200  # nesting of lists/maps inside one object (Tekton objects: ~20)
MAX_ALIASES = 1_000  # YAML alias uses per document (kubectl writes none)
MAX_ALIAS_NODES = 100_000  # values YAML aliases may add to a document when expanded (a "billion laughs" adds 9**9)

HELP = (f"Limits: a file of at most {MAX_FILE_BYTES // MIB} MiB of UTF-8 text; an object of at most "
        f"{MAX_OBJECT_BYTES // MIB} MiB (the API server's own limit) nested at most {MAX_DEPTH} levels deep; "
        f"per YAML document at most {MAX_ALIASES} alias uses adding at most {MAX_ALIAS_NODES:,} values. "
        "An object past a limit is skipped with the reason; a file past one is not read.")


class DumpLimitError(ValueError):
    """An object or YAML document past one of the limits; the message names the limit."""


class DumpReadError(OSError):
    """A file that is not a dump the importer can read (too big, binary); str() says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.strerror = reason


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether lists/maps in `value` nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(v, dict):
            stack.extend((c, depth + 1) for c in v.values() if isinstance(c, (dict, list)))
        elif isinstance(v, list):
            stack.extend((c, depth + 1) for c in v if isinstance(c, (dict, list)))
    return False


def may_be_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """A cheap necessary condition for `too_deep` on an object's JSON text: enough brackets to nest that far."""
    return text.count("[") + text.count("{") > limit


DEEP_REASON = f"nested more than {MAX_DEPTH} levels deep (the limit of the importer)"


def size_reason(n: int) -> str:
    return (f"object is {n / MIB:.1f} MiB, over the {MAX_OBJECT_BYTES // MIB} MiB limit "
            "(no API server stores an object this big)")
