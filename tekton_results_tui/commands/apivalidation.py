"""What an API server would refuse in a run's metadata: a dump is checked as a cluster would check it.

Runs from a watcher come from an API server, so their names are valid; a dump file can hold
anything. `import` skips an object whose name, namespace or uid no API server would have stored,
and says which (the text in the reason shown, never obeyed). Other odd values (a 40-digit
resourceVersion, NUL in a message) are the store's to keep, with a warning on the record.

- name: a DNS-1123 subdomain (lower-case letters, digits, `-`, `.`; alphanumeric at each end;
  at most 253 characters), as the API server checks custom resources' names;
- namespace: a DNS-1123 label (no dots, at most 63 characters);
- uid: at most 64 characters of letters, digits and `-._:` (the server writes UUIDs).
"""

from __future__ import annotations

import re
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LABEL_RE = re.compile(_LABEL)
_UID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
MAX_SUBDOMAIN = 253
MAX_LABEL = 63
MAX_UID = 64


def _shown(value: str, n: int = 60) -> str:
    return repr(value[:n] + ("..." if len(value) > n else ""))


def name_problem(name: str) -> str | None:
    if len(name) > MAX_SUBDOMAIN:
        return f"metadata.name is {len(name)} characters, more than {MAX_SUBDOMAIN}"
    if not _SUBDOMAIN_RE.fullmatch(name):
        return (f"metadata.name {_shown(name)} is not a valid name (lower-case letters, digits, '-' and '.', "
                "starting and ending with a letter or digit)")
    return None


def namespace_problem(ns: str) -> str | None:
    if len(ns) > MAX_LABEL:
        return f"metadata.namespace is {len(ns)} characters, more than {MAX_LABEL}"
    if not _LABEL_RE.fullmatch(ns):
        return (f"metadata.namespace {_shown(ns)} is not a valid namespace (lower-case letters, digits and '-', "
                "starting and ending with a letter or digit)")
    return None


def uid_problem(uid: str) -> str | None:
    if len(uid) > MAX_UID:
        return f"metadata.uid is {len(uid)} characters, more than {MAX_UID}"
    if not _UID_RE.fullmatch(uid):
        return f"metadata.uid {_shown(uid)} is not a valid uid (letters, digits and '-._:')"
    return None


def metadata_problem(obj: dict) -> str | None:
    """Why an API server would not have stored this object, or None. Missing fields are left to the
    store's own checks (which name them); only values present and invalid are named here."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None
    name, ns, uid = meta.get("name"), meta.get("namespace"), meta.get("uid")
    if isinstance(name, str) and name and (why := name_problem(name)):
        return why
    if isinstance(ns, str) and ns and (why := namespace_problem(ns)):
        return why
    if isinstance(uid, str) and uid and (why := uid_problem(uid)):
        return why
    return None
