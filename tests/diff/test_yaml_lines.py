"""The diff's YAML writer: whatever it writes, a YAML parser reads back as the same object."""

from __future__ import annotations

import pytest
import yaml

from tekton_results_tui.insights.yaml_lines import yaml_lines

AWKWARD_STRINGS = [
    "yes", "No", "null", "~", "y", "1.5", "0x1f", "2026-01-01", "2026-01-01T00:00:00Z", "a: b", "a #b", "#c", "- x",
    "? y", "'q'", '"d"', "", " lead", "trail ", "tab\tx", "x\ny\n", "x\n\n\n", "\nlead", "a\r\nb", "\x1b[2J",
    "\u202eevil", "ünï", "é\nü", "sha256:ab", "golang:1.22", "*ref", "&anc", "!tag", "%dir", "@at", "`bt", "{x}",
    "[y]", "a,b", ".inf", "-1", "+1", "=", "<<", "a::b", ":x", "x:", "line1\n  indented\n\ttab\nend", "a\n \n b\n",
    "last line no newline\nx", "\x85next line", "a\u2028b", "\ufeffbom", "\x9b2J", "del\x7f", "\ud800lone",
]


@pytest.mark.parametrize("value", AWKWARD_STRINGS)
def test_strings_read_back_the_same_as_values_keys_and_list_items(value: str) -> None:
    for obj in ({"k": value, "z": 1}, {value: 1, "z": 1}, {"l": [value, value], "z": [1]}, {"end": value}):
        text = "".join(line + "\n" for line in yaml_lines(obj))
        assert yaml.safe_load(text) == obj, text


def test_other_values_and_shapes() -> None:
    obj = {"n": [1, -2, 1.5, 1e20, 1e-7, float("inf"), float("-inf"), True, False, None, {}, [], [[1, [2]], {}],
                 {"k": {}}, [{"a": 1, "b": [{"c": "d"}]}]], "empty": {}, "none": [], "": 3, "10": "ten"}
    text = "".join(line + "\n" for line in yaml_lines(obj))
    assert yaml.safe_load(text) == obj, text
    assert all(yaml.safe_load("\n".join(yaml_lines(v)) + "\n") == v for v in ({}, [], "x\ny\n", None, 3))


def test_kubectl_style_sorted_keys_and_scripts_as_blocks() -> None:
    obj = {"spec": {"steps": [{"script": "make\nmake test\n", "name": "build", "image": "golang:1.22"}]}, "kind": "TaskRun"}
    assert yaml_lines(obj) == [
        "kind: TaskRun",
        "spec:",
        "  steps:",
        "  - image: golang:1.22",
        "    name: build",
        "    script: |",
        "      make",
        "      make test",
    ]
