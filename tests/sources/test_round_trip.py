"""The round trip: `serve` history A, `sync` it into an empty B — the same Results, Records (the same
object text), summaries and logs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tekton_results_tui.bootstrap import history_at
from tekton_results_tui.cli import main
from tekton_results_tui.store.history import Events, History, Logs, RunUpsert, StepLogData

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))
from clikit import load_make_dump  # noqa: E402

CLUSTER = "prod"


def build_a(db_url: str, tmp_path: Path) -> None:
    """History A: a generated dump imported, then step logs, events and CustomRuns as a watcher adds them."""
    items, _ = load_make_dump().build_dump(runs=30, seed=5, now=int(time.time()))
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(items))
    assert main(["import", str(dump), "--db", db_url, "--cluster-name", CLUSTER]) == 0
    with history_at(db_url, read_only=False) as h:
        trs = [h.record_object(r.id) for r in h.list_records("kind:taskrun", limit=12).items]
        prs = [h.record_object(r.id) for r in h.list_records("kind:pipelinerun", limit=3).items]
        changes: list = []
        for i, t in enumerate(trs):
            steps = [StepLogData("clone", "step-clone", f"cloning {i}\n".encode() * 3),
                     StepLogData("build", "step-build", b"no newline at the end", truncated=i % 3 == 0)]
            if i % 4 == 0:
                steps.append(StepLogData("push", "step-push", b"", state="not-started"))
            changes.append(Logs(t, steps))
        for t in trs[:4]:
            changes.append(Events(t, [{"metadata": {"name": f"{t['metadata']['name']}.1", "resourceVersion": "11"},
                                       "reason": "Scheduled", "involvedObject": {"kind": "Pod", "name": "p"}}]))
        for j, p in enumerate(prs):
            cr = {"apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
                  "metadata": {"name": f"{p['metadata']['name']}-approve", "namespace": p["metadata"]["namespace"],
                               "uid": f"00000000-0000-4000-8000-00000000c{j:03d}", "resourceVersion": "5",
                               "creationTimestamp": p["metadata"]["creationTimestamp"],
                               "labels": {"tekton.dev/pipelineTask": "approve"},
                               "ownerReferences": [{"apiVersion": p["apiVersion"], "kind": "PipelineRun",
                                                    "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}]},
                  "spec": {"customRef": {"apiVersion": "example.dev/v1", "kind": "Approval"}},
                  "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Approved"}]}}
            changes.append(RunUpsert(cr))
            changes.append(Events(p, [{"metadata": {"name": "pr-ev", "resourceVersion": "3"}, "reason": "Started",
                                       "involvedObject": {"kind": "PipelineRun", "uid": p["metadata"]["uid"]}}]))
        res = h.apply(changes, cluster=CLUSTER)
        assert not res.skipped


def everything(db_url: str) -> dict:
    """What a reader sees of a history, without the ids, sequence numbers and times of its own writes."""
    out: dict = {"results": {}, "records": {}, "logs": {}}
    with history_at(db_url, read_only=True) as h:
        token = None
        while True:
            page = h.list_results(page_token=token, limit=200)
            for r in page.items:
                row = {k: v for k, v in dataclasses.asdict(r).items()
                       if k not in ("id", "cluster", "seq", "create_time", "update_time", "sort_time", "uid")}
                details = h.result_details(r.id)
                out["results"][r.name] = (row, details.get("annotations"), details.get("summary_annotations"))
                for rec in h.records_of(r.id):
                    out["records"][rec.name] = (rec.type, rec.kind, rec.status, rec.reason, rec.start, rec.end,
                                                rec.run_uid, h.record_data(rec.id))
                    if rec.kind == "Log":
                        out["logs"][rec.name] = [(s.step, s.container, s.size, s.truncated, s.state,
                                                  h.step_log_text(s.id)) for s in h.step_logs(rec.id)]
            token = page.next_token
            if not token:
                break
        out["summary"] = [dataclasses.asdict(a) for a in h.aggregate("pipeline")]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def b_url(db_url, tmp_path, request):
    """An empty history B on the same engine as A."""
    if db_url.startswith("sqlite"):
        return "sqlite:///" + str(tmp_path / "b.db")
    import uuid

    import psycopg2

    base, _, _ = db_url.partition("?")  # A's server and database, another schema
    schema = "t_" + uuid.uuid4().hex[:12]

    def drop() -> None:
        conn = psycopg2.connect(base, connect_timeout=3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()

    request.addfinalizer(drop)
    return f"{base}?schema={schema}"


def test_serve_a_then_sync_into_b_gives_the_same_history(db_url, b_url, tmp_path):
    build_a(db_url, tmp_path)
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "serve", "--db", db_url, "--listen",
                              f"127.0.0.1:{port}", "--auth", "none"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert serve.poll() is None, serve.stderr.read().decode()[-2000:]
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)  # a server process coming up: nothing to await but its port
        assert main(["sync", "--results-api", url, "--db", b_url, "--cluster-name", CLUSTER, "-q",
                     "--page-size", "25"]) == 0
        a, b = everything(db_url), everything(b_url)
        assert len(a["records"]) > 60 and len(a["logs"]) == 12
        assert sum(1 for v in a["records"].values() if v[1] == "CustomRun") == 3
        assert sum(1 for v in a["records"].values() if v[1] == "EventList") == 7
        assert b["results"].keys() == a["results"].keys()
        for name in a["results"]:
            assert b["results"][name] == a["results"][name], name
        assert b["records"].keys() == a["records"].keys()
        for name in a["records"]:
            assert b["records"][name] == a["records"][name], name  # the stored text too, byte for byte
        assert b["logs"] == a["logs"]
        assert b["summary"] == a["summary"]
        # and a second sync finds nothing new
        assert main(["sync", "--results-api", url, "--db", b_url, "--cluster-name", CLUSTER, "-q"]) == 0
        assert everything(b_url) == b
    finally:
        serve.terminate()
        serve.wait(10)
