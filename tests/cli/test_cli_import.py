"""`import`: kubectl dumps in every shape, partial failures, exit codes, idempotency."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from clikit import Cli

PR = {
    "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
    "metadata": {"name": "solo", "namespace": "ci", "uid": "uid-solo", "resourceVersion": "5",
                 "creationTimestamp": "2026-01-02T03:04:00Z"},
    "status": {"conditions": [{"type": "Succeeded", "status": "False", "reason": "StepOOM"}],
               "startTime": "2026-01-02T03:04:05Z", "completionTime": "2026-01-02T03:14:05Z"},
}


def _tr(name: str, uid: str, ns: str = "ci", api: str = "tekton.dev/v1") -> dict:
    return {"apiVersion": api, "kind": "TaskRun",
            "metadata": {"name": name, "namespace": ns, "uid": uid, "resourceVersion": "7"},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                       "startTime": "2026-01-02T03:04:05Z", "completionTime": "2026-01-02T03:05:05Z"}}


def _check_against_expected(results: list[dict], expected: dict) -> None:
    by_name = {r["name"]: r for r in results}
    assert set(by_name) == set(expected)
    for name, want in expected.items():
        got = by_name[name]
        assert got["summary"]["status"] == want["status"], (name, want)
        assert got["reason"] == want["reason"], name
        assert got["summary"]["start_time"] == want["start_time"], name
        assert got["summary"]["end_time"] == want["end_time"], name
        assert got["summary"]["type"] == f"{want['api_version']}.{want['kind']}", name
        assert got["record_count"] == want["record_count"], name
        assert got["display_name"] == want["display_name"], name
        assert got["pipeline"] == want["pipeline"], name
        assert bool(got["warnings"]) == want["annotations_malformed"], name


def test_import_yaml_list_stores_every_result_with_its_summary(db_url, capsys, dump_yaml, generated) -> None:
    cli = Cli(db_url, capsys)
    n_objects = len(generated[0]["items"])
    rc, out, err = cli("import", str(dump_yaml))
    assert rc == 0, err
    assert out.strip() == f"{dump_yaml}: {n_objects} runs stored ({n_objects} new)"
    assert "resultAnnotations is not valid JSON" in err  # the malformed one: a warning, still stored
    doc = cli.json("results", "--limit", "0")
    assert doc["next_page_token"] == ""
    _check_against_expected(doc["results"], generated[1])
    # every outcome of the generator is covered
    assert {r["summary"]["status"] for r in doc["results"]} == {"SUCCESS", "FAILURE", "CANCELLED", "TIMEOUT", "UNKNOWN"}
    annotated = [r for r in doc["results"] if r["annotations"].get("repo")]
    assert annotated and all(r["annotations"]["repo"].startswith("example/") for r in annotated)


def test_reimport_is_idempotent_and_reports_unchanged(cli, dump_yaml, generated) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History

    n = len(generated[0]["items"])
    assert cli("import", str(dump_yaml))[0] == 0
    seq_before = History(open_database(cli.url)).current_seq()
    rc, out, err = cli("import", str(dump_yaml))
    assert rc == 0, err
    assert out.strip() == f"{dump_yaml}: {n} runs stored ({n} unchanged)"
    assert History(open_database(cli.url)).current_seq() == seq_before


def test_newer_resource_version_counts_as_updated(cli, tmp_path) -> None:
    p = tmp_path / "one.yaml"
    p.write_text(yaml.safe_dump(PR))
    assert cli("import", str(p))[1].strip().endswith("1 runs stored (1 new)")
    newer = json.loads(json.dumps(PR))
    newer["metadata"]["resourceVersion"] = "9"
    newer["status"]["conditions"][0]["reason"] = "PipelineRunTimeout"
    p.write_text(yaml.safe_dump(newer))
    rc, out, _ = cli("import", str(p))
    assert (rc, out.strip()) == (0, f"{p}: 1 runs stored (1 updated)")
    assert cli.json("results")["results"][0]["summary"]["status"] == "TIMEOUT"


def test_json_list_as_kubectl_writes_it(cli, dump_json, generated) -> None:
    rc, out, err = cli("import", str(dump_json))
    assert rc == 0, err
    _check_against_expected(cli.json("results", "--limit", "0")["results"], generated[1])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_single_object(cli, tmp_path, fmt) -> None:
    p = tmp_path / f"pr.{fmt}"
    p.write_text(yaml.safe_dump(PR) if fmt == "yaml" else json.dumps(PR, indent=2))
    rc, out, err = cli("import", str(p))
    assert (rc, err) == (0, "")
    [r] = cli.json("results")["results"]
    assert (r["name"], r["summary"]["status"], r["reason"]) == ("ci/results/uid-solo", "FAILURE", "StepOOM")
    assert (r["summary"]["start_time"], r["summary"]["end_time"], r["duration_seconds"]) == (
        "2026-01-02T03:04:05Z", "2026-01-02T03:14:05Z", 600)


def test_multidoc_yaml_with_broken_documents_is_partial(cli, tmp_path) -> None:
    docs = [
        yaml.safe_dump(PR),
        "kind: PipelineRun\nmetadata: {name: broken\n  namespace: [ci\n",  # malformed YAML
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ci"}}),
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
            _tr("tr-ok", "uid-tr-ok"),
            {**_tr("tr-nouid", "x"), "metadata": {"name": "tr-nouid", "namespace": "ci"}},
            _tr("tr-beta", "uid-tr-beta", api="tekton.dev/v1beta1"),
            {**_tr("tr-alpha", "uid-alpha"), "apiVersion": "tekton.dev/v1alpha1"},
        ]}),
        "- just\n- a list\n",
        "",  # empty documents are not objects and not problems
        yaml.safe_dump(_tr("tr-last", "uid-tr-last", ns="dev")),
    ]
    p = tmp_path / "multi.yaml"
    p.write_text("---\n" + "---\n".join(docs) + "...\n")
    rc, out, err = cli("import", str(p))
    assert rc == 1
    assert out.strip() == f"{p}: 4 runs stored (4 new), 6 skipped"
    lines = err.strip().splitlines()
    assert len(lines) == 6, err  # the bare list's two strings are two skipped items
    assert all(line.startswith(f"{p}: skipped ") for line in lines)
    bad_line = p.read_text().splitlines().index("  namespace: [ci") + 1
    assert any(f"document 2 (line {bad_line})" in line and "malformed YAML" in line for line in lines), err
    assert any("ConfigMap ci/cm" in line and "not PipelineRun or TaskRun" in line for line in lines), err
    assert any("TaskRun ci/tr-nouid" in line and "uid" in line for line in lines), err
    assert any("TaskRun ci/tr-alpha" in line and "v1alpha1" in line for line in lines), err
    assert sum("of document 5" in line and "not a Kubernetes object" in line for line in lines) == 2, err
    names = {r["display_name"] for r in cli.json("results")["results"]}
    assert names == {"solo", "tr-ok", "tr-beta", "tr-last"}
    beta = cli.json("records", "name:tr-beta")["records"][0]
    assert beta["type"] == "tekton.dev/v1beta1.TaskRun" and beta["data"]["metadata"]["uid"] == "uid-tr-beta"


def test_stdin_and_cluster_name(cli, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"kind": "PipelineRunList", "items": [PR]})))
    rc, out, err = cli("import", "-", "--cluster-name", "prod")
    assert (rc, out.strip()) == (0, "stdin: 1 runs stored (1 new)"), err
    assert [r["cluster"] for r in cli.json("results", "cluster:prod")["results"]] == ["prod"]
    assert cli.json("results", "cluster:other")["results"] == []


def test_unreadable_files_exit_2_but_readable_ones_are_stored(cli, tmp_path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(PR))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    rc, out, err = cli("import", str(tmp_path / "missing.yaml"), str(tmp_path), str(binary), str(good))
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert "missing.yaml: cannot read: No such file or directory" in lines[0]
    assert "cannot read: Is a directory" in lines[1]
    assert "bin.yaml: cannot read" in lines[2]
    assert f"{good}: 1 runs stored (1 new)" in out
    assert "Traceback" not in err


def test_bad_db_url_is_one_line(capsys, tmp_path) -> None:
    p = tmp_path / "pr.yaml"
    p.write_text(yaml.safe_dump(PR))
    rc, out, err = Cli("mysql://nope/x", capsys)("import", str(p))
    assert rc == 2
    assert err.count("\n") == 1 and "unsupported database URL scheme 'mysql'" in err


def test_yaml_only_values_never_break_an_import(cli, tmp_path) -> None:
    """Unquoted timestamps stay text; a value JSON cannot hold skips only its object."""
    p = tmp_path / "odd.yaml"
    p.write_text(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: plain-times, namespace: ci, uid: u1,"
        " resourceVersion: '3', creationTimestamp: 2026-01-02T03:04:00Z}\n"
        "status:\n  startTime: 2026-01-02T03:04:05Z\n  completionTime: 2026-01-02T03:05:05Z\n"
        "  conditions: [{type: Succeeded, status: 'True', reason: Succeeded}]\n"
        "---\n"
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: odd, namespace: ci, uid: u2}\n"
        "spec: {params: !!set {a: null}}\n"
    )
    rc, out, err = cli("import", str(p))
    assert rc == 1 and out.strip() == f"{p}: 1 runs stored (1 new), 1 skipped"
    assert "skipped TaskRun ci/odd: not representable as JSON" in err
    [r] = cli.json("results")["results"]
    assert (r["summary"]["start_time"], r["duration_seconds"]) == ("2026-01-02T03:04:05Z", 60)
