"""GetLog: a run's log as text/plain, streamed chunk by chunk from the store, every line prefixed as
tkn's log writer (upstream's watcher) prefixes it; a run record's id works as well as its Log's."""

from __future__ import annotations

from apikit import pr, tr

from tekton_results_tui.kinds import LOG
from tekton_results_tui.store.grouping import derived_uid
from tekton_results_tui.store.history import Logs, RunUpsert, StepLogData


def test_log_by_log_id_and_by_run_ids(api) -> None:
    p, t = api.corpus.prs[1], api.corpus.trs[1]
    rn = api.corpus.result_name(p)
    want = "[build] building build-2\n[build] line two\n[test] testing build-2\n"
    log_id = derived_uid(t["metadata"]["uid"], LOG.name)
    for rec in (log_id, t["metadata"]["uid"]):
        r = api.get(f"/{rn}/logs/{rec}")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
        assert r.text == want
    r = api.get(f"/{rn}/logs/{p['metadata']['uid']}")  # a PipelineRun: its TaskRuns' logs by pipeline task
    assert r.text == want.replace("[build]", "[compile : build]").replace("[test]", "[compile : test]")


def test_missing_logs_are_404(api, history) -> None:
    lone = pr("no-tasks", ns="ci")
    history.apply([RunUpsert(lone)], cluster="test")
    rn = f"ci/results/{lone['metadata']['uid']}"
    r = api.get(f"/{rn}/logs/{lone['metadata']['uid']}")
    assert r.status_code == 404 and "no log stored" in r.json()["message"]
    r = api.get(f"/{rn}/logs/does-not-exist")
    assert r.status_code == 404 and r.json()["code"] == 5
    r = api.get("/-/results/-/logs/x")
    assert r.status_code == 400 and "invalid parent" in r.json()["message"]


def test_a_large_log_streams_in_chunks(api, history) -> None:
    p = pr("big", ns="ci")
    t = tr("big-task", parent=p)
    lines = [f"line {i:07d} " + "x" * (i % 97) for i in range(120_000)]
    text = ("\n".join(lines) + "\n").encode()  # ~9 MB: many chunks of the store's reads and the HTTP stream
    history.apply([RunUpsert(p), RunUpsert(t), Logs(t, [StepLogData("s", "step-s", text)])], cluster="test")
    rn = f"ci/results/{p['metadata']['uid']}"
    r = api.session.get(api.base + f"/apis/results.tekton.dev/v1alpha2/parents/{rn}/logs/{t['metadata']['uid']}",
                        stream=True, timeout=60)
    assert r.status_code == 200
    assert "Content-Length" not in r.headers  # streamed (chunked), not built and measured first
    pieces = 0
    buf = bytearray()
    for chunk in r.iter_content(chunk_size=None):
        pieces += 1
        buf += chunk
    assert pieces > 3
    got = bytes(buf).decode().split("\n")
    assert got[-1] == "" and got[:-1] == ["[s] " + ln for ln in lines]
