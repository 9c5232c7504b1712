"""`tekton-results-tui diff` through the CLI's entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from diffkit import SPEC, T0, Cli, pipelinerun, store, taskrun, with_images

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import Gone, History

DOC_KEYS = {"a", "b", "kind", "changes", "tasks", "a_record", "b_record", "a_status", "b_status", "a_seconds",
            "b_seconds"}


def _build(name: str, outcome: str, t0: int, *, ns: str = "ci", pipeline: str = "build", revision: str = "r1",
           digest: str = "sha256:aaa", took: int = 50, labels: dict | None = None) -> list[dict]:
    pr = pipelinerun(name, outcome, created=t0, start=t0, end=t0 + 4 * took, ns=ns, pipeline=pipeline, revision=revision,
                     spec_tasks=[dict(t) for t in SPEC], labels=labels)
    trs = [with_images(taskrun(pr, n, outcome if n == "test" else "ok", created=t0 + i * 60, start=t0 + i * 60,
                               end=t0 + i * 60 + took, steps=[("build", t0 + i * 60, t0 + i * 60 + took)]),
                       {"build": ("golang:1.22", digest)})
           for i, n in enumerate(("clone", "compile", "test"))]
    return [pr, *trs]


@pytest.fixture
def runs(db_url: str) -> dict[str, dict]:
    db = open_database(db_url)
    h = History(db)
    objs = {
        "build-1": _build("build-1", "ok", T0),
        "build-0-other-ns": _build("build-0", "ok", T0 + 300, ns="other"),
        "deploy": _build("deploy-1", "ok", T0 + 500, pipeline="deploy"),
        "build-f": _build("build-f", "fail", T0 + 800),
        "build-2": _build("build-2", "fail", T0 + 1000, revision="r2", digest="sha256:bbb", took=100,
                          labels={"team": "a\x1b]0;pwned\x07b"}),
        "build-3": _build("build-3", "ok", T0 + 2000),
        "build-slow": _build("build-slow", "ok", T0 + 2500, took=100),
        "lonely": _build("lonely-1", "fail", T0, pipeline="lonely"),
        "dup-ci": _build("dup", "ok", T0 + 3000),
        "dup-other": _build("dup", "ok", T0 + 3100, ns="other", revision="r9"),
    }
    units = [with_images(taskrun(None, "unit", o, created=T0 + i * 100, start=T0 + i * 100, end=T0 + i * 100 + 30,
                                 steps=[("go", T0 + i * 100, T0 + i * 100 + 20)], name=f"unit-{i}"),
                         {"go": ("golang", f"sha256:{i}")})
             for i, o in enumerate(("ok", "ok", "fail"))]
    store(h, *(o for group in objs.values() for o in group), *units)
    h.apply([Gone(objs["build-1"][0]["metadata"]["uid"], at=T0 + 5000)])  # long gone from the cluster
    db.close()
    return {k: v[0] for k, v in objs.items()}


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture, runs: dict) -> Cli:
    return Cli(db_url, capsys)


def test_json_shape_live_against_gone(cli: Cli) -> None:
    doc = cli.json("diff", "build-1", "build-2")
    assert set(doc) == DOC_KEYS
    assert (doc["a"], doc["b"], doc["kind"]) == ("build-1", "build-2", "PipelineRun")
    assert (doc["a_status"], doc["b_status"], doc["a_seconds"], doc["b_seconds"]) == ("SUCCESS", "FAILURE", 200, 400)
    for c in doc["changes"]:
        assert set(c) == {"path", "a", "b", "kind"} and c["kind"] in ("added", "removed", "changed")
    by_path = {c["path"]: c for c in doc["changes"]}
    assert by_path["spec.params[name=revision].value"] == {
        "path": "spec.params[name=revision].value", "a": "r1", "b": "r2", "kind": "changed"}
    assert by_path["tasks[name=test].status"]["b"] == "FAILURE"
    assert {p for p in by_path if p.endswith(".imageID")} == {
        f"tasks[name={t}].steps[name=build].imageID" for t in ("clone", "compile", "test")}
    assert by_path["metadata.labels.team"]["kind"] == "added"
    assert [(t["task"], t["a_seconds"], t["b_seconds"]) for t in doc["tasks"]] == [
        ("clone", 50, 100), ("compile", 50, 100), ("test", 50, 100)]
    for t in doc["tasks"]:
        assert set(t) == {"task", "a_status", "b_status", "a_seconds", "b_seconds", "steps"}
    assert doc["a_record"].startswith("ci/results/") and "/records/" in doc["a_record"]


def test_text_summary_groups_changes_and_shows_data_safely(cli: Cli) -> None:
    rc, out, err = cli("diff", "build-1", "build-2", "--steps", "--yaml")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "A: PipelineRun ci/build-1: Succeeded, 3m20s (gone from the cluster)"
    assert lines[1] == "B: PipelineRun ci/build-2: Failed, 6m40s"
    titles = [ln for ln in lines if ln and not ln.startswith((" ", "A:", "B:", "-", "+", "@")) and "change" not in ln]
    assert titles[:4] == ["Params", "Tasks", "Images and digests", "Labels and annotations"]
    assert "  ~ spec.params[name=revision].value: r1 -> r2" in lines
    row = next(ln for ln in lines if ln.startswith("  test "))
    assert row.split()[:6] == ["test", "Succeeded", "Failed", "50s", "100s", "+50s"]
    assert any(ln.split()[:1] == ["build"] and ln.startswith("    build") for ln in lines)  # --steps rows
    assert "--- a/ci/build-1" in lines and "+++ b/ci/build-2" in lines and "-    value: r1" in lines
    assert "\x1b" not in out and "\x07" not in out and "a\\e]0;pwned\\x07b" in out


def test_spec_unchanged_duration_doubled_says_so(cli: Cli) -> None:
    doc = cli.json("diff", "build-3", "build-slow")
    assert doc["changes"] == [] and (doc["a_seconds"], doc["b_seconds"]) == (200, 400)
    assert [(t["task"], t["a_seconds"], t["b_seconds"]) for t in doc["tasks"]] == [
        ("clone", 50, 100), ("compile", 50, 100), ("test", 50, 100)]
    assert [(s["a_seconds"], s["b_seconds"]) for s in doc["tasks"][0]["steps"]] == [(50, 100)]
    rc, out, err = cli("diff", "build-3", "build-slow")
    assert rc == 0, err
    assert out.splitlines()[2] == "0 changes; duration +3m20s (+100%)"
    assert [ln.split()[-2:] for ln in out.splitlines() if ln.startswith("  compile ")] == [["+50s", "(+100%)"]]


def test_last_success_is_the_newest_earlier_success_of_the_same_pipeline_and_namespace(cli: Cli) -> None:
    doc = cli.json("diff", "build-2", "--last-success")
    # not build-3 (newer), build-f (failed), build-0 (other namespace) or deploy-1 (other pipeline)
    assert (doc["a"], doc["b"]) == ("build-1", "build-2")
    # a TaskRun of a pipeline: the newest success of the same pipeline task, even in a run that failed
    doc = cli.json("diff", "build-2-compile", "--last-success")
    assert (doc["a"], doc["b"]) == ("build-f-compile", "build-2-compile")
    rc, out, err = cli("diff", "build-1-test", "--last-success")
    assert rc == 1 and err.strip() == ("no successful run of task test of pipeline build in namespace ci before "
                                       "TaskRun ci/build-1-test")
    doc = cli.json("diff", "unit-2", "--last-success")
    assert (doc["a"], doc["b"], doc["kind"]) == ("unit-1", "unit-2", "TaskRun")
    assert [c["path"] for c in doc["changes"]] == ["status.steps[name=go].imageID"]


def test_last_success_when_there_is_none(cli: Cli) -> None:
    rc, out, err = cli("diff", "lonely-1", "--last-success")
    assert (rc, out) == (1, "")
    assert err.strip() == "no successful run of pipeline lonely in namespace ci before PipelineRun ci/lonely-1"
    rc, out, err = cli("diff", "build-1", "--last-success")  # the first success has none before it
    assert rc == 1 and "no successful run of pipeline build" in err and "Traceback" not in err


def test_namespaces_by_slash_and_by_flag(cli: Cli) -> None:
    doc = cli.json("diff", "ci/dup", "other/dup")
    assert [(c["path"], c["a"], c["b"]) for c in doc["changes"]] == [("spec.params[name=revision].value", "r1", "r9")]
    doc = cli.json("diff", "dup", "build-3", "-n", "ci")
    assert doc["a_record"].startswith("ci/")


@pytest.mark.parametrize(("argv", "needle"), [
    (("diff", "nope", "build-2"), "'nope'"),
    (("diff", "build-1", "ci/nope"), "'ci/nope'"),
    (("diff", "build-1", "build-2", "-n", "elsewhere"), "in namespace elsewhere"),
    (("diff", "build-1"), "--last-success"),
    (("diff", "build-1", "build-2", "--last-success"), "--last-success"),
    (("diff", "build-1", "unit-1"), "cannot compare a PipelineRun with a TaskRun"),
    (("diff", "ci/build-1", "build-2", "-n", "other"), "-n says"),
    (("diff", "x\x1b[2Jy", "build-2"), "x\\x1b[2Jy"),
])
def test_bad_input_is_one_line_naming_it(cli: Cli, argv: tuple[str, ...], needle: str) -> None:
    rc, out, err = cli(*argv)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "\x1b" not in err


def test_hostile_data_is_shown_never_obeyed_and_json_keeps_it_exact(db_url: str, capsys: pytest.CaptureFixture) -> None:
    import hostile_corpus as hc

    evil = hc.hostile_strings()
    db = open_database(db_url)
    h = History(db)
    a = _build("evil-1", "ok", T0, pipeline="evil")
    b = _build("evil-2", "fail", T0 + 1000, pipeline="evil")
    pr = b[0]
    pr["spec"]["params"] = [{"name": k, "value": v} for k, v in evil.items() if "\x00" not in v]
    pr["metadata"]["labels"]["team"] = "x" + evil["osc0_title"]
    pr["status"]["pipelineSpec"]["tasks"][0]["taskSpec"] = {"steps": [{"name": "s", "script": evil["csi_clear_screen"]
                                                                       + "\n" + evil["bidi_override"] + "\n"}]}
    b[1]["metadata"]["labels"]["tekton.dev/pipelineTask"] = "clone" + evil["c1_csi"]
    store(h, *a, *b)
    db.close()
    cli = Cli(db_url, capsys)
    rc, out, err = cli("diff", "evil-1", "evil-2", "--yaml", "--steps")
    assert rc == 0, err
    hc.assert_no_controls(out, "diff text")
    hc.assert_no_controls(err, "diff stderr")
    assert "x\\e]0;pwned-title\\x07" in out and "clone\\x9b2J\\x9bH" in out
    rc, out, err = cli("diff", "evil-1", "evil-2", "-o", "json")
    assert rc == 0, err
    hc.assert_no_controls(out, "diff json")
    doc = json.loads(out)
    by_path = {c["path"]: c for c in doc["changes"]}
    assert by_path["metadata.labels.team"]["b"] == "x" + evil["osc0_title"]
    assert by_path["spec.params[name=bidi_override]"]["b"] == {"name": "bidi_override", "value": evil["bidi_override"]}
    assert "clone" + evil["c1_csi"] in [t["task"] for t in doc["tasks"]]


def test_children_are_the_runs_own_wherever_the_history_grouped_them(db_url: str, capsys: pytest.CaptureFixture) -> None:
    db = open_database(db_url)
    h = History(db)
    # two PipelineRuns of one trigger event share a Result (the event id label reaches their TaskRuns too)
    a = _build("ev-a", "ok", T0, pipeline="ev", labels={"triggers.tekton.dev/triggers-eventid": "e1"})
    b = _build("ev-b", "ok", T0 + 100, pipeline="ev", took=70, labels={"triggers.tekton.dev/triggers-eventid": "e1"})
    for tr in a[1:] + b[1:]:
        tr["metadata"]["labels"]["triggers.tekton.dev/triggers-eventid"] = "e1"
    # a PipelineRun named into a Result by annotation whose TaskRuns lack it: they are grouped by its uid
    c = _build("ann-c", "ok", T0 + 200, pipeline="ev", took=90)
    c[0]["metadata"]["annotations"]["results.tekton.dev/result"] = "ci/results/elsewhere"
    store(h, *a, *b, *c)
    assert h.get_record(uid=a[0]["metadata"]["uid"]).result_id == h.get_record(uid=b[0]["metadata"]["uid"]).result_id
    db.close()
    cli = Cli(db_url, capsys)
    doc = cli.json("diff", "ev-a", "ev-b")
    assert [(t["task"], t["a_seconds"], t["b_seconds"]) for t in doc["tasks"]] == [
        ("clone", 50, 70), ("compile", 50, 70), ("test", 50, 70)]
    doc = cli.json("diff", "ev-a", "ann-c")
    assert [(t["task"], t["b_status"], t["b_seconds"]) for t in doc["tasks"]] == [
        ("clone", "SUCCESS", 90), ("compile", "SUCCESS", 90), ("test", "SUCCESS", 90)]


def test_last_success_of_runs_outside_a_pipelines_result(db_url: str, capsys: pytest.CaptureFixture) -> None:
    db = open_database(db_url)
    h = History(db)
    # PipelineRuns owned by another controller's object: their Results carry no pipeline summary
    owned = [_build(f"owned-{i}", outcome, T0 + i * 100, pipeline="owned") for i, outcome in enumerate(("ok", "ok", "fail"))]
    for group in owned:
        group[0]["metadata"]["ownerReferences"] = [{"apiVersion": "x.example/v1", "kind": "Repository", "name": "r",
                                                    "uid": "repo-uid"}]
    store(h, *(o for group in owned for o in group))
    run = h.find_runs("owned-2")[0]
    assert not run.top_level and h.get_result(id=run.result_id).pipeline is None
    db.close()
    cli = Cli(db_url, capsys)
    doc = cli.json("diff", "owned-2", "--last-success")
    assert (doc["a"], doc["b"]) == ("owned-1", "owned-2")
    rc, out, err = cli("diff", "owned-0", "--last-success")
    assert rc == 1 and "no successful run of pipeline owned" in err
