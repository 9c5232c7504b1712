"""Hostile objects (found in review): one of them must never fail a batch or stop the writer."""

from __future__ import annotations

import pytest

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import RunUpsert


def _run(name: str, uid: str, **meta) -> dict:
    m = {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": "5"}
    m.update(meta)
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": m,
            "status": {"conditions": [{"type": "Succeeded", "status": "False", "reason": "R" * 500}]}}


def test_deeply_nested_annotation_json_is_a_warning_not_an_exception() -> None:
    info = g.classify(_run("deep", "u-deep", annotations={g.RESULT_ANNOTATIONS_INPUT: "[" * 100_000}))
    assert info.result_annotations == {}
    assert any("nests too deeply" in w for w in info.warnings)


def test_overlong_result_annotation_is_ignored_and_the_reason_capped() -> None:
    info = g.classify(_run("long", "u-long", annotations={g.RESULT_ANNOTATION: "ci/results/" + "a" * 700}))
    assert info.result_name == "ci/results/u-long"
    assert any("is not '<namespace>/results/<id>'" in w and len(w) < 300 for w in info.warnings)
    assert info.reason is not None and len(info.reason) == g.MAX_SHORT


def test_overlong_uid_is_refused_with_a_reason() -> None:
    with pytest.raises(g.GroupingError, match="uid longer than"):
        g.classify(_run("x", "u" * 100))


def test_hostile_objects_do_not_fail_the_batch_on_either_engine(history) -> None:
    good = _run("good", "u-good")
    res = history.apply([
        RunUpsert(_run("deep", "u-deep", annotations={g.RESULT_ANNOTATIONS_INPUT: "[" * 100_000})),
        RunUpsert(_run("long", "u-long", annotations={g.RESULT_ANNOTATION: "ci/results/" + "a" * 700})),
        RunUpsert(_run("x", "u" * 100)),
        RunUpsert(good),
    ])
    assert res.stored == 3 and len(res.skipped) == 1 and "uid" in res.skipped[0].why
    assert history.get_record(uid="u-good") is not None
    assert history.count_results() == 3
