"""Run kinds from the registry on the command line: a v1beta1 CustomRun imported from a dump joins its
owner PipelineRun's Result; `logs` of a run kind without step logs says so."""

from __future__ import annotations

import yaml

from clikit import Cli

OWNER_UID = "11111111-2222-4333-8444-555555555555"
PR = {
    "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
    "metadata": {"name": "approve-release", "namespace": "ci", "uid": OWNER_UID, "resourceVersion": "10",
                 "creationTimestamp": "2026-01-02T03:04:00Z", "labels": {"tekton.dev/pipeline": "release"}},
    "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
               "startTime": "2026-01-02T03:04:05Z", "completionTime": "2026-01-02T03:14:05Z",
               "childReferences": [{"apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
                                    "name": "approve-release-wait", "pipelineTaskName": "wait"}]},
}
CR = {
    "apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
    "metadata": {"name": "approve-release-wait", "namespace": "ci", "uid": "99999999-2222-4333-8444-555555555555",
                 "resourceVersion": "11", "creationTimestamp": "2026-01-02T03:04:10Z",
                 "labels": {"tekton.dev/pipeline": "release", "tekton.dev/pipelineRun": "approve-release",
                            "tekton.dev/pipelineTask": "wait", "tekton.dev/pipelineRunUID": OWNER_UID},
                 "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": "approve-release",
                                      "uid": OWNER_UID, "controller": True, "blockOwnerDeletion": True}]},
    "spec": {"customRef": {"apiVersion": "example.dev/v1", "kind": "Wait"}},
    "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
               "startTime": "2026-01-02T03:04:11Z", "completionTime": "2026-01-02T03:05:11Z"},
}


def test_a_v1beta1_customrun_from_a_dump_is_stored_under_its_pipelineruns_result(db_url, capsys, tmp_path) -> None:
    cli = Cli(db_url, capsys)
    dump = tmp_path / "customrun.yaml"
    # the CustomRun first: the order in a dump must not matter
    dump.write_text(yaml.safe_dump_all([CR, PR], sort_keys=False))
    rc, out, err = cli("import", str(dump))
    assert rc == 0, err
    assert out.strip() == f"{dump}: 2 runs stored (2 new)"
    results = cli.json("results")["results"]
    assert [r["display_name"] for r in results] == ["approve-release"]
    assert results[0]["record_count"] == 2
    records = cli.json("records", "kind:customrun")["records"]
    assert len(records) == 1
    cr = records[0]
    assert cr["kind"] == "CustomRun" and cr["type"] == "tekton.dev/v1beta1.CustomRun"
    assert cr["result"] == results[0]["name"] and cr["pipeline_task"] == "wait"
    assert cr["data"]["spec"]["customRef"]["kind"] == "Wait"


def test_logs_of_a_customrun_say_it_has_none(sqlite_url, capsys, tmp_path) -> None:
    cli = Cli(sqlite_url, capsys)
    dump = tmp_path / "customrun.yaml"
    dump.write_text(yaml.safe_dump_all([PR, CR], sort_keys=False))
    assert cli("import", str(dump))[0] == 0
    rc, out, err = cli("logs", "approve-release-wait")
    assert rc == 1 and out == ""
    assert "CustomRun ci/approve-release-wait has no step logs" in err
    # the PipelineRun has a child kind with logs (TaskRun) but none stored
    rc, out, err = cli("logs", "approve-release")
    assert rc == 1 and "PipelineRun ci/approve-release has no stored TaskRuns, so no logs" in err
