"""`results`, `records`, `logs`: tables, JSON/YAML documents, filters, paging, read-only opening."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clikit import Cli, run_on_a_terminal
from tekton_results_tui.commands.output import human_duration, terminal_safe

HEADERS = ["NAME", "NAMESPACE", "STATUS", "REASON", "PIPELINE", "STARTED", "DURATION", "IN-CLUSTER"]


@pytest.mark.parametrize("seconds,want", [
    (-5, "<invalid>"), (0, "0s"), (45, "45s"), (119, "119s"), (120, "2m"), (330, "5m30s"), (600, "10m"),
    (95 * 60, "95m"), (3 * 3600 + 20 * 60, "3h20m"), (5 * 3600, "5h"), (30 * 3600, "30h"), (3 * 86400 + 4 * 3600, "3d4h"),
    (120 * 86400, "120d"), (2 * 365 * 86400 + 30 * 86400, "2y30d"), (9 * 365 * 86400, "9y"),
])
def test_ages_read_like_kubectl(seconds, want) -> None:
    assert human_duration(seconds) == want


def test_results_table(imported: Cli, generated) -> None:
    rc, out, err = imported("results", "--limit", "0")
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == HEADERS
    assert len(lines) == 1 + len(generated[1])
    # columns line up under their headers, like kubectl's tabwriter
    col = lines[0].index("STATUS")
    words = {line[col:].split()[0] for line in lines[1:]}
    assert words <= {"Succeeded", "Failed", "Cancelled", "Timeout", "Running", "Pending"}
    assert {"Succeeded", "Failed", "Cancelled", "Timeout", "Running", "Pending"} <= words
    # newest first: the running ones were created within the last hour
    first = lines[1].split()
    assert first[5].endswith(("s", "m")) and first[-1] == "yes"


def test_results_yaml_and_json_agree(imported: Cli) -> None:
    rc, out, _ = imported("results", "--limit", "5", "-o", "yaml")
    as_yaml = yaml.safe_load(out)
    as_json = imported.json("results", "--limit", "5")
    assert as_yaml == as_json
    assert set(as_json) == {"results", "next_page_token"} and as_json["next_page_token"]
    r = as_json["results"][0]
    for key in ("name", "uid", "annotations", "summary", "create_time", "update_time", "cluster", "in_cluster",
                "gone_time", "display_name", "pipeline", "warnings"):
        assert key in r
    assert set(r["summary"]) == {"record", "type", "status", "start_time", "end_time", "annotations"}


def test_paging_with_tokens_covers_everything_once(imported: Cli, generated) -> None:
    seen: list[str] = []
    token = ""
    for _ in range(50):
        args = ["results", "--limit", "7", "--order", "start"] + (["--page-token", token] if token else [])
        doc = imported.json(*args)
        seen += [r["name"] for r in doc["results"]]
        token = doc["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(generated[1]) and len(seen) == len(set(seen))
    rc, _, err = imported("results", "--page-token", "garbage!")
    assert rc == 2 and err.startswith("tekton-results-tui: error: --page-token") and err.count("\n") == 1


def test_filters_and_negation(imported: Cli, generated) -> None:
    exp = generated[1]
    failed = imported.json("results", "status:failed", "--limit", "0")["results"]
    assert {r["name"] for r in failed} == {n for n, e in exp.items() if e["status"] == "FAILURE"}
    not_ok = imported.json("results", "-status:succeeded", "-ns:ci", "--limit", "0")["results"]
    assert {r["name"] for r in not_ok} == {n for n, e in exp.items()
                                          if e["status"] != "SUCCESS" and not n.startswith("ci/")}
    by_ns = imported.json("results", "-n", "dev", "pipeline:deploy", "--limit", "0")["results"]
    assert {r["name"] for r in by_ns} == {n for n, e in exp.items() if n.startswith("dev/") and e["pipeline"] == "deploy"}
    # TaskRun reasons reach Results through their records
    oom = imported.json("results", "reason:StepOOM,PodEvicted,TaskRunImagePullFailed", "--limit", "0")["results"]
    assert oom and all(r["summary"]["status"] == "FAILURE" for r in oom)


def test_bad_filter_is_one_line_exit_2(imported: Cli) -> None:
    for cmd in ("results", "records"):
        rc, out, err = imported(cmd, "stauts:failed")
        assert rc == 2 and out == ""
        assert err == 'tekton-results-tui: error: unknown key "stauts" in "stauts:failed" — did you mean "status"?\n'
    rc, _, err = imported("results", "dur>soon")
    assert rc == 2 and "bad duration" in err and err.count("\n") == 1


def test_empty_result_says_so(imported: Cli) -> None:
    rc, out, err = imported("results", "pipeline:nothing-like-this")
    assert (rc, out) == (0, "") and "No results found." in err


def test_records_of_a_result_with_parsed_data(imported: Cli, generated) -> None:
    name, want = next((n, e) for n, e in generated[1].items() if e["record_count"] >= 3)
    doc = imported.json("records", "--result", name, "--limit", "0")
    recs = doc["records"]
    assert len(recs) == want["record_count"]
    for r in recs:
        assert r["name"].startswith(name + "/records/") and r["result"] == name
        assert r["data"]["metadata"]["uid"] == r["uid"] and r["data"]["kind"] == r["kind"]
        assert r["type"] == f"{r['data']['apiVersion']}.{r['kind']}"
        assert r["in_cluster"] is True
    rc, out, err = imported("records", "--result", name)
    assert rc == 0 and out.splitlines()[0].split()[:3] == ["NAME", "NAMESPACE", "KIND"]
    rc, _, err = imported("records", "--result", "ci/results/nope")
    assert rc == 2 and "no Result named 'ci/results/nope'" in err


def test_missing_database_is_one_line(capsys, tmp_path) -> None:
    for cmd in (["results"], ["records"], ["logs", "x"]):
        rc, out, err = Cli("sqlite:///" + str(tmp_path / "none.db"), capsys)(*cmd)
        assert rc == 2 and out == ""
        assert err == f"tekton-results-tui: error: no history at {tmp_path / 'none.db'}: nothing to open read-only\n"
    assert not (tmp_path / "none.db").exists()  # a reader never creates a database


def test_readers_work_on_a_read_only_copy(imported: Cli, tmp_path, generated) -> None:
    """Read commands open with mode=ro: a read-only copy of a history works and is not written."""
    src = Path(imported.url.removeprefix("sqlite:///"))
    from tekton_results_tui.store.db import open_database

    open_database(imported.url).execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    copy_dir = tmp_path / "ro"
    copy_dir.mkdir()
    copy = copy_dir / "copy.db"
    copy.write_bytes(src.read_bytes())
    os.chmod(copy, 0o444)
    before = copy.read_bytes()
    ro = Cli("sqlite:///" + str(copy), imported.capsys)
    assert len(ro.json("results", "--limit", "0")["results"]) == len(generated[1])
    assert ro("records", "--limit", "3")[0] == 0
    assert copy.read_bytes() == before
    # SQLite readers of a WAL database keep a shared-memory index beside it; nothing else appears
    assert set(os.listdir(copy_dir)) <= {"copy.db", "copy.db-wal", "copy.db-shm"}
    wal = copy_dir / "copy.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


# --- logs -------------------------------------------------------------------------------


def _store_logs(url: str, taskrun: dict, steps: dict[str, bytes]) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History, Logs, StepLogData

    h = History(open_database(url))
    h.apply([Logs(taskrun, [StepLogData(s, f"step-{s}", t) for s, t in steps.items()])])


def _a_taskrun(generated, ns: str | None = None) -> dict:
    return next(o for o in generated[0]["items"] if o["kind"] == "TaskRun" and o["metadata"].get("ownerReferences")
                and (ns is None or o["metadata"]["namespace"] == ns))


def test_logs_of_imported_run_without_logs(imported: Cli, generated) -> None:
    tr = _a_taskrun(generated)
    rc, out, err = imported("logs", tr["metadata"]["name"])
    assert rc == 1 and out == ""
    assert f"no stored logs for TaskRun {tr['metadata']['namespace']}/{tr['metadata']['name']}" in err
    assert "imported runs have none" in err
    pr = next(o for o in generated[0]["items"] if o["kind"] == "PipelineRun")
    rc, out, err = imported("logs", pr["metadata"]["name"])
    assert rc == 1 and out == "" and "no stored logs for PipelineRun" in err
    rc, out, err = imported("logs", "no-such-run")
    assert rc == 2 and err == "tekton-results-tui: error: no stored run, Record or Result named 'no-such-run'\n"


def test_logs_print_steps_with_headers_and_one_step(imported: Cli, generated) -> None:
    tr = _a_taskrun(generated)
    name = tr["metadata"]["name"]
    _store_logs(imported.url, tr, {"prepare": b"fetching\n", "build": b"\x1b[32mok\x1b[0m\x1b]0;title\x07 done"})
    rc, out, err = imported("logs", name)
    assert (rc, err) == (0, "")
    # not a TTY: the text exactly as stored (escapes included), tail-style headers
    assert out == "==> step prepare <==\nfetching\n==> step build <==\n\x1b[32mok\x1b[0m\x1b]0;title\x07 done\n"
    rc, out, _ = imported("logs", name, "--step", "build")
    assert (rc, out) == (0, "\x1b[32mok\x1b[0m\x1b]0;title\x07 done\n")
    rc, _, err = imported("logs", name, "--step", "push")
    assert rc == 2 and "stored steps: prepare, build" in err
    # by uid and by record name too; and through its PipelineRun
    assert imported("logs", tr["metadata"]["uid"])[1].startswith("==> step prepare <==")
    rec = imported.json("records", f"name:{name}")["records"][0]
    assert imported("logs", rec["name"])[1].startswith("==> step prepare <==")
    owner = tr["metadata"]["ownerReferences"][0]["name"]
    rc, out, err = imported("logs", owner)
    assert rc == 0 and f"==> taskrun {name} step prepare <==\nfetching\n" in out


def test_terminal_keeps_colour_and_drops_other_escapes() -> None:
    raw = ("\x1b[1;31mred\x1b[0m \x1b]0;pwned\x07\x1b]52;c;Y2xpcA==\x1b\\ \x1b[2J\x1b[H"
           "a\rb\r\nc\x07\x9b31mx\x00y\x1bPdcs\x1b\\z")
    assert terminal_safe(raw) == "\x1b[1;31mred\x1b[0m  a\nb\ncxyz"


def test_logs_on_a_terminal_are_sanitized(imported: Cli, generated) -> None:
    """The installed command on a real pty: SGR colour passes, title/clear-screen escapes do not."""
    tr = _a_taskrun(generated)
    _store_logs(imported.url, tr, {"build": b"\x1b[32mgreen\x1b[0m\x1b]0;evil title\x07\x1b[2Jend\n"})
    exe = Path(sys.executable).with_name("tekton-results-tui")
    proc = run_on_a_terminal([str(exe), "logs", tr["metadata"]["name"], "--db", imported.url], terminal_stderr=False)
    text = proc.stdout.decode().replace("\r\n", "\n")
    assert proc.returncode == 0, proc.stderr
    assert text == "==> step build <==\n\x1b[32mgreen\x1b[0mend\n"


def test_broken_pipe_is_quiet(imported: Cli) -> None:
    exe = Path(sys.executable).with_name("tekton-results-tui")
    p = subprocess.run(f"'{exe}' records --limit 0 -o yaml --db '{imported.url}' | head -1", shell=True,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout == "records:\n" and "Traceback" not in p.stderr and "Broken pipe" not in p.stderr



def test_output_name_for_scripts(imported: Cli, generated) -> None:
    rc, out, err = imported("results", "-o", "name", "--limit", "0", "status:timeout")
    assert rc == 0 and set(out.split()) == {n for n, e in generated[1].items() if e["status"] == "TIMEOUT"}
    name = out.split()[0]
    rc, out, _ = imported("records", "-oname", "--result", name)
    assert rc == 0 and out and all(line.startswith(name + "/records/") for line in out.splitlines())
