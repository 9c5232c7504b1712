"""The run diff on hand-made pairs of run objects (no database): what counts as a change, and its path."""

from __future__ import annotations

import copy

from diffkit import SPEC, T0, pipelinerun, taskrun, with_images

from tekton_results_tui.insights import diff as d
from tekton_results_tui.insights.yaml_diff import SideRow, to_yaml_lines, yaml_diff


def _pair(**b_changes) -> tuple[dict, list[dict], dict, list[dict]]:
    """Two runs of `build` with the same three tasks; B's TaskRuns take as long as A's times `slow`."""
    slow = b_changes.pop("slow", 1)
    a = pipelinerun("build-1", created=T0, start=T0, end=T0 + 200, revision="r1", spec_tasks=copy.deepcopy(SPEC))
    b = pipelinerun("build-2", created=T0 + 1000, start=T0 + 1000, end=T0 + 1000 + 200 * slow, revision="r1",
                    spec_tasks=copy.deepcopy(SPEC))

    def trs(pr: dict, t0: int, k: int) -> list[dict]:
        return [with_images(taskrun(pr, n, created=t0 + i * 60 * k, start=t0 + i * 60 * k, end=t0 + (i * 60 + 50) * k,
                                    steps=[("build", t0 + i * 60 * k, t0 + (i * 60 + 40) * k)]),
                            {"build": ("golang:1.22", "sha256:aaa")})
                for i, n in enumerate(("clone", "compile", "test"))]

    return a, trs(a, T0, 1), b, trs(b, T0 + 1000, slow)


def _diff(a: dict, ca: list[dict], b: dict, cb: list[dict]) -> d.RunDiff:
    return d.diff_runs(d.RunSide(a, ca), d.RunSide(b, cb))


def _paths(r: d.RunDiff) -> list[tuple[str, str]]:
    return [(c.path, c.kind) for c in r.changes]


def test_param_changed_is_one_change_named_by_the_param() -> None:
    a, ca, b, cb = _pair()
    b["spec"]["params"][0]["value"] = "r2"
    r = _diff(a, ca, b, cb)
    assert [c.document() for c in r.changes] == [
        {"path": "spec.params[name=revision].value", "a": "r1", "b": "r2", "kind": "changed"}]
    assert list(r.by_section()) == [d.PARAMS]


def test_reordered_params_and_tasks_are_not_changes() -> None:
    a, ca, b, cb = _pair()
    a["spec"]["params"] = [{"name": "x", "value": "1"}, {"name": "y", "value": "2"}]
    b["spec"]["params"] = [{"name": "y", "value": "2"}, {"name": "x", "value": "1"}]
    b["status"]["pipelineSpec"]["tasks"].reverse()
    r = _diff(a, ca, b, cb)
    assert r.changes == []
    # a list without names is compared by position
    a["spec"]["params"][0]["value"] = ["p", "q"]
    b["spec"]["params"][1]["value"] = ["q", "p"]
    assert _paths(_diff(a, ca, b, cb)) == [("spec.params[name=x].value[0]", "changed"),
                                          ("spec.params[name=x].value[1]", "changed")]


def test_task_added_and_removed() -> None:
    a, ca, b, cb = _pair()
    b["status"]["pipelineSpec"]["tasks"][2] = {"name": "lint", "runAfter": ["compile"], "taskRef": {"name": "lint"}}
    cb[2] = with_images(taskrun(b, "lint", "fail", created=T0 + 1120, start=T0 + 1120, end=T0 + 1130,
                                steps=[("build", T0 + 1120, T0 + 1130)]), {"build": ("golang:1.22", "sha256:aaa")})
    r = _diff(a, ca, b, cb)
    assert _paths(r) == [("tasks[name=test].status", "removed"), ("tasks[name=lint].status", "added"),
                         ("pipelineSpec.tasks[name=test]", "removed"), ("pipelineSpec.tasks[name=lint]", "added")]
    assert [(t.task, t.a_status, t.b_status) for t in r.tasks] == [
        ("clone", "SUCCESS", "SUCCESS"), ("compile", "SUCCESS", "SUCCESS"), ("test", "SUCCESS", None),
        ("lint", None, "FAILURE")]
    removed = r.changes[2]
    assert removed.a == {"name": "test", "runAfter": ["compile"], "taskRef": {"name": "golang-test"}} and removed.b is None


def test_skipped_and_failed_tasks() -> None:
    a, ca, b, cb = _pair()
    b["status"]["skippedTasks"] = [{"name": "test", "reason": "When Expressions evaluated to false"}]
    cb = cb[:2]
    cb[1]["status"]["conditions"][0].update(status="False", reason="Failed")
    r = _diff(a, ca, b, cb)
    assert [(c.path, c.a, c.b) for c in r.changes if c.section == d.TASKS] == [
        ("tasks[name=compile].status", "SUCCESS", "FAILURE"), ("tasks[name=test].status", "SUCCESS", d.SKIPPED)]
    # a task of the spec with no TaskRun and no skip record did not run
    del b["status"]["skippedTasks"]
    assert _diff(a, ca, b, cb).tasks[2].b_status == d.NOT_RUN


def test_image_digest_changed() -> None:
    a, ca, b, cb = _pair()
    cb[1]["status"]["steps"][0]["imageID"] = "sha256:bbb"
    r = _diff(a, ca, b, cb)
    assert [c.document() for c in r.changes] == [
        {"path": "tasks[name=compile].steps[name=build].imageID", "a": "sha256:aaa", "b": "sha256:bbb",
         "kind": "changed"}]
    assert list(r.by_section()) == [d.IMAGES]
    # the image itself, from the TaskRun's resolved taskSpec, is an image change too
    cb[1]["status"]["taskSpec"]["steps"][0]["image"] = "golang:1.23"
    assert [(c.path, c.section) for c in _diff(a, ca, b, cb).changes] == [
        ("tasks[name=compile].taskSpec.steps[name=build].image", d.IMAGES),
        ("tasks[name=compile].steps[name=build].imageID", d.IMAGES)]


def test_spec_unchanged_duration_doubled() -> None:
    a, ca, b, cb = _pair(slow=2)
    r = _diff(a, ca, b, cb)
    assert r.changes == []
    assert (r.a_seconds, r.b_seconds) == (200, 400)
    assert [(t.task, t.a_seconds, t.b_seconds, t.delta_seconds) for t in r.tasks] == [
        ("clone", 50, 100, 50), ("compile", 50, 100, 50), ("test", 50, 100, 50)]
    assert [(s.step, s.a_seconds, s.b_seconds) for s in r.tasks[0].steps] == [("build", 40, 80)]
    doc = r.document()
    assert doc["changes"] == [] and doc["tasks"][0]["steps"] == [
        {"step": "build", "a_status": "SUCCESS", "b_status": "SUCCESS", "a_seconds": 40, "b_seconds": 80}]


def test_system_labels_and_annotations_are_not_changes() -> None:
    a, ca, b, cb = _pair()
    b["metadata"]["labels"].update({"tekton.dev/pipelineRun": "build-2", "app.kubernetes.io/name": "web"})
    b["metadata"]["annotations"].update({
        "results.tekton.dev/record": "x", "results.tekton.dev/stored": "true", "chains.tekton.dev/signed": "true",
        "kubectl.kubernetes.io/last-applied-configuration": "{}", "pipelinesascode.tekton.dev/state": "completed",
        "pipelinesascode.tekton.dev/sha": "abc123", "results.tekton.dev/recordSummaryAnnotations": '{"a": "b"}'})
    r = _diff(a, ca, b, cb)
    assert _paths(r) == [('metadata.labels["app.kubernetes.io/name"]', "added"),
                         ('metadata.annotations["pipelinesascode.tekton.dev/sha"]', "added"),
                         ('metadata.annotations["results.tekton.dev/recordSummaryAnnotations"]', "added")]
    assert {c.section for c in r.changes} == {d.METADATA}


def test_service_account_workspaces_timeouts_and_results() -> None:
    a, ca, b, cb = _pair()
    a["spec"].update(taskRunTemplate={"serviceAccountName": "builder"}, timeouts={"pipeline": "1h"},
                     workspaces=[{"name": "src", "emptyDir": {}}, {"name": "cache", "persistentVolumeClaim": {"claimName": "c"}}])
    b["spec"].update(taskRunTemplate={"serviceAccountName": "deployer"}, timeouts={"pipeline": "2h"},
                     workspaces=[{"name": "cache", "persistentVolumeClaim": {"claimName": "c2"}}, {"name": "src", "emptyDir": {}}])
    a["status"]["results"] = [{"name": "digest", "value": "sha256:1"}]
    b["status"]["results"] = [{"name": "digest", "value": "sha256:2"}]
    cb[0]["status"]["results"] = [{"name": "commit", "value": "abc"}]
    r = _diff(a, ca, b, cb)
    assert [(c.path, c.a, c.b, c.section) for c in r.changes] == [
        ("status.results[name=digest].value", "sha256:1", "sha256:2", d.RESULTS),
        ("tasks[name=clone].results", None, [{"name": "commit", "value": "abc"}], d.RESULTS),
        ("spec.taskRunTemplate.serviceAccountName", "builder", "deployer", d.SPEC),
        ("spec.timeouts.pipeline", "1h", "2h", d.SPEC),
        ("spec.workspaces[name=cache].persistentVolumeClaim.claimName", "c", "c2", d.SPEC)]


def test_resolved_spec_falls_back_to_the_embedded_one_and_child_specs_are_compared_once() -> None:
    a, ca, b, cb = _pair()
    for pr in (a, b):  # a spec embedded in the run, no status.pipelineSpec: the same path
        pr["spec"]["pipelineSpec"] = pr["status"].pop("pipelineSpec")
        del pr["spec"]["pipelineRef"]
    b["spec"]["pipelineSpec"]["tasks"][1]["timeout"] = "5m"
    assert _paths(_diff(a, ca, b, cb)) == [("pipelineSpec.tasks[name=compile].timeout", "added")]
    # a task whose spec the pipeline embeds is compared there, not again in its TaskRun
    for pr, cs in ((a, ca), (b, cb)):
        pr["spec"]["pipelineSpec"]["tasks"][1]["taskSpec"] = copy.deepcopy(cs[1]["status"]["taskSpec"])
    b["spec"]["pipelineSpec"]["tasks"][1]["taskSpec"]["steps"][0]["script"] = "make all"
    cb[1]["status"]["taskSpec"]["steps"][0]["script"] = "make all"
    assert _paths(_diff(a, ca, b, cb)) == [("pipelineSpec.tasks[name=compile].taskSpec.steps[name=build].script", "changed"),
                                          ("pipelineSpec.tasks[name=compile].timeout", "added")]


def test_taskrun_pair_and_matrix_fan_out() -> None:
    a = with_images(taskrun(None, "unit", created=T0, start=T0, end=T0 + 30, steps=[("go", T0, T0 + 20)]),
                    {"go": ("golang", "sha256:1")})
    b = copy.deepcopy(a)
    b["metadata"].update(name="unit-2", uid="other")
    b["status"]["steps"][0]["imageID"] = "sha256:2"
    r = d.diff_runs(d.RunSide(a), d.RunSide(b))
    assert _paths(r) == [("status.steps[name=go].imageID", "changed")]
    assert [(t.task, t.a_seconds, [s.step for s in t.steps]) for t in r.tasks] == [("unit", 30, ["go"])]
    # a matrix runs one pipeline task several times: later TaskRuns are task#2, task#3 by creation
    pr = pipelinerun("m", created=T0, start=T0, end=T0 + 100, spec_tasks=[{"name": "build"}])
    runs = [taskrun(pr, "build", created=T0 + i, start=T0 + i, end=T0 + 10 * (i + 1), name=f"m-build-{i}")
            for i in (2, 0, 1)]
    assert list(d.pipeline_tasks(pr, runs)) == ["build", "build#2", "build#3"]
    assert d.pipeline_tasks(pr, runs)["build#3"].seconds == 28


def test_paths_quote_names_that_are_not_plain() -> None:
    assert d.key_path("metadata.labels", "app") == "metadata.labels.app"
    assert d.key_path("metadata.labels", "a.b/c") == 'metadata.labels["a.b/c"]'
    assert d.name_path("spec.params", "git-url") == "spec.params[name=git-url]"
    assert d.name_path("spec.params", "a]b c") == 'spec.params[name="a]b c"]'


def test_yaml_diff_hunks_and_what_it_leaves_out() -> None:
    a, _, b, _ = _pair()
    b["spec"]["params"][0]["value"] = "r2"
    for pr in (a, b):
        pr["metadata"]["managedFields"] = [{"manager": "kubectl"}]
        pr["metadata"]["annotations"]["results.tekton.dev/record"] = pr["metadata"]["name"]
    yd = yaml_diff(a, b, "a/build-1", "b/build-2", context=1)
    assert yd.lines[:2] == ["--- a/build-1", "+++ b/build-2"]
    assert yd.hunks and all(yd.lines[i].startswith("@@") for i in yd.hunks)
    assert sum(1 for ln in yd.lines if ln.startswith("@@")) == len(yd.hunks)
    assert "-    value: r1" in yd.lines and "+    value: r2" in yd.lines
    assert not any("managedFields" in ln or "results.tekton.dev" in ln for ln in yd.lines)
    assert yd.text().endswith("\n") and yd.text().count("\n") == len(yd.lines)
    same = yaml_diff(a, copy.deepcopy(a))
    assert same.lines == [] and same.hunks == []


def test_yaml_diff_of_a_script_shows_the_line_that_changed() -> None:
    a = with_images(taskrun(None, "unit", created=T0, start=T0, end=T0 + 30, steps=[("go", T0, T0 + 20)]),
                    {"go": ("golang", "sha256:1")})
    a["status"]["taskSpec"]["steps"][0]["script"] = "go vet ./...\ngo test ./...\ngo build\n"
    b = copy.deepcopy(a)
    b["status"]["taskSpec"]["steps"][0]["script"] = "go vet ./...\ngo test -race ./...\ngo build\n"
    yd = yaml_diff(a, b, context=0)
    assert [ln for ln in yd.lines[2:] if not ln.startswith("@@")] == [
        "-        go test ./...", "+        go test -race ./..."]
    assert len(yd.hunks) == 1


def test_yaml_diff_is_difflibs_unified_diff_and_has_a_side_by_side_form() -> None:
    import difflib

    a, _, b, _ = _pair(slow=2)
    b["spec"]["params"][0]["value"] = "r2"
    b["status"]["pipelineSpec"]["tasks"].pop(1)
    for context in (0, 1, 3):
        yd = yaml_diff(a, b, "A", "B", context=context)
        assert yd.lines == list(difflib.unified_diff(to_yaml_lines(a), to_yaml_lines(b), "A", "B", n=context,
                                                     lineterm=""))
    rows = yd.side_by_side()
    assert len(yd.side_hunks()) == len(yd.hunks) and yd.side_hunks()[0] == 0
    assert SideRow(rows[0].a_no, rows[0].a_text, rows[0].b_no, rows[0].b_text, "equal") == rows[0]
    changed = [r for r in rows if r.tag == "replace" and r.a_text and "value: r1" in r.a_text]
    assert [(r.a_text, r.b_text) for r in changed] == [("    value: r1", "    value: r2")]
    deleted = [r for r in rows if r.tag == "delete"]
    assert deleted and all(r.b_no is None and r.b_text is None for r in deleted)
    assert any(r.a_text == "    - name: compile" for r in deleted)
    for r in rows:  # numbers point at the lines shown
        assert r.a_no is None or yd.a_lines[r.a_no - 1] == r.a_text
        assert r.b_no is None or yd.b_lines[r.b_no - 1] == r.b_text


def test_sections_of_paths() -> None:
    assert d.section_of('tasks[name="a]b"].status') == d.TASKS
    assert d.section_of("tasks[name=build].results[name=x].value") == d.RESULTS
    assert d.section_of("tasks[name=build].taskSpec.results[name=x].type") == d.SPEC
    assert d.section_of("tasks[name=build].taskSpec.steps[name=s].image") == d.IMAGES
    assert d.section_of("status.pipelineResults[name=x].value") == d.RESULTS
    assert d.section_of("pipelineSpec.tasks[name=build].params[name=x].value") == d.SPEC


def test_malformed_objects_are_compared_without_failing() -> None:
    a, ca, b, cb = _pair()
    odd: list[tuple[dict, list[dict]]] = [({}, []), ({"kind": "PipelineRun"}, [{}])]
    for mangle in ({"status": []}, {"spec": "x"}, {"metadata": {"labels": ["x"], "annotations": None}},
                   {"status": {"steps": {"a": 1}, "pipelineSpec": {"tasks": "no"}, "skippedTasks": [1, {"name": 2}],
                               "childReferences": [None], "results": "r"}}):
        o = copy.deepcopy(b)
        o.update(mangle)
        kids = copy.deepcopy(cb)
        kids[0]["status"] = {"steps": [{"name": "s", "terminated": "no"}, 5], "startTime": "yesterday"}
        kids[1]["metadata"] = []
        odd.append((o, kids))
    for x, cx in [(a, ca), *odd]:
        for y, cy in odd:
            r = d.diff_runs(d.RunSide(x, cx), d.RunSide(y, cy))
            assert isinstance(r.document(), dict)
            assert isinstance(yaml_diff(x, y).lines, list)
