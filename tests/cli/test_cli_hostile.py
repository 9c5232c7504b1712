"""The hostile corpus through the command line, on SQLite and PostgreSQL, as a user's terminal gets it.

Every command runs as a real process and its stdout/stderr BYTES are checked: no control character or
sequence from the data (OSC, CSI, C1, bidi, zero-width, NUL, lone surrogates) in any output format,
error or skip line; every hostile run stored or skipped with a reason; bombs refused with a clear
reason, bounded in memory, without stopping the files after them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

import hostile_corpus as hc
from clikit import run_on_a_terminal

ROOT = Path(__file__).resolve().parents[2]
PROG = [sys.executable, "-m", "tekton_results_tui"]
FORMATS = ("table", "wide", "name", "json", "yaml")
RSS_LIMIT_MB = 300


def run_cli(*argv: str, timeout: float = 120) -> tuple[int, bytes, bytes]:
    p = subprocess.run([*PROG, *argv], capture_output=True, timeout=timeout, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    return p.returncode, p.stdout, p.stderr


def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").splitlines()


# --- one imported history per engine, shared by the module ---------------------------------------


def _root_conftest():  # noqa: ANN202
    """tests/conftest.py (its PostgreSQL helpers); `import conftest` would find this directory's."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "tests" / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus_db(request, tmp_path_factory):
    """(db URL, the import's (rc, stdout, stderr), the dump files) for the corpus imported once."""
    root_conftest = _root_conftest()
    tmp = tmp_path_factory.mktemp("hostile")
    files = hc.write_dumps(tmp / "dumps")
    schema = None
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp / "history.db")
    else:
        root_conftest.require_pg()
        schema = "t_" + uuid.uuid4().hex[:12]
        base = root_conftest.PG_BASE
        url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    result = run_cli("import", *map(str, files), "--db", url, timeout=300)
    yield url, result, files
    if schema:
        root_conftest._drop_schema(schema)


def test_import_stores_or_skips_every_object_with_a_reason_and_no_control_reaches_the_terminal(corpus_db) -> None:
    url, (rc, out, err), files = corpus_db
    hc.assert_no_controls(out, "import stdout")
    hc.assert_no_controls(err, "import stderr")
    assert rc == 1, err.decode()  # objects were skipped; no file was unreadable
    assert b"Traceback" not in err
    summary = {line.split(": ", 1)[0]: line for line in lines(out)}
    n_hostile = len(hc.hostile_runs())
    n_yaml = len(hc.surrogate_free(hc.hostile_runs()))
    by_name = {Path(f).name: str(f) for f in files}
    assert summary[by_name["hostile.json"]].startswith(f"{by_name['hostile.json']}: {n_hostile} runs stored")
    assert summary[by_name["hostile.yaml"]].startswith(f"{by_name['hostile.yaml']}: {n_yaml} runs stored")
    assert summary[by_name["invalid-names.json"]].endswith(f"0 runs stored, {len(hc.invalid_runs())} skipped")
    assert summary[by_name["forty-digits.yaml"]].startswith(f"{by_name['forty-digits.yaml']}: 2 runs stored")
    # the bombs: each refused with its reason, and the files after them still read
    skipped = [line for line in lines(err) if ": skipped " in line]
    def reason_for(name: str) -> str:
        found = [line for line in skipped if line.startswith(by_name[name] + ":")]
        assert len(found) == 1, (name, found)
        return found[0]
    assert "YAML aliases expand to more than" in reason_for("alias-bomb.yaml")
    assert "nested more than 200 levels deep" in reason_for("deep.json")
    assert "nesting depth" in reason_for("deep.yaml")
    assert "over the 3 MiB limit" in reason_for("huge.json")
    assert summary[by_name["good-last.yaml"]] == f"{by_name['good-last.yaml']}: 1 runs stored (1 new)"
    # every invalid object is named, and its reason says what is wrong
    invalid = [line for line in skipped if line.startswith(by_name["invalid-names.json"] + ":")]
    assert len(invalid) == len(hc.invalid_runs())
    assert sum(": metadata.name " in x for x in invalid) == 7
    assert sum("metadata.name missing" in x for x in invalid) == 1  # the empty name: the store's own check
    assert sum(": metadata.namespace " in x for x in invalid) == 3
    assert sum(": metadata.uid " in x for x in invalid) == 2
    assert any(r"bad-\e]0;pwned-title\x07" in x for x in invalid), invalid  # shown, not obeyed


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["results", "records"])
def test_every_output_format_carries_no_control_from_the_data(corpus_db, command: str, fmt: str) -> None:
    url = corpus_db[0]
    rc, out, err = run_cli(command, "--limit", "0", "-o", fmt, "--db", url)
    assert rc == 0, err.decode()
    hc.assert_no_controls(out, f"{command} -o {fmt}")
    hc.assert_no_controls(err, f"{command} -o {fmt} stderr")
    text = out.decode("utf-8")
    if fmt in ("json", "yaml"):
        doc = json.loads(text) if fmt == "json" else yaml.safe_load(text)
        items = doc[command]
        assert len(items) >= 20
        if command == "records":  # escaping loses nothing: the stored object comes back as it was
            data = {r["data"]["metadata"]["name"]: r["data"] for r in items if r["kind"] == "PipelineRun"}
            osc = hc.hostile_strings()["osc52_clipboard"]
            assert data["hostile-osc52-clipboard"]["metadata"]["annotations"]["note"] == osc
            bidi = hc.hostile_strings()["bidi_override"]
            assert data["hostile-bidi-override"]["status"]["conditions"][0]["message"] == f"message {bidi} end"
    elif fmt == "name":
        assert all("/results/" in line for line in text.splitlines())
    else:
        assert "hostile-osc0-title" in text
        if command == "records":  # the pipeline label of a hostile run, shown with visible escapes
            assert r"pipe\e]0;pwned-title\x07" in text


def test_filters_and_lookups_with_hostile_words_fail_or_answer_in_one_safe_line(corpus_db) -> None:
    url = corpus_db[0]
    s = hc.hostile_strings()
    for argv in (["logs", f"x{s['osc0_title']}"], ["records", "--result", f"x{s['csi_clear_screen']}"],
                 ["results", f"pipeline:{s['c1_csi']}"], ["results", f"label:a={s['bidi_override']}"]):
        rc, out, err = run_cli(*argv, "--db", url)
        hc.assert_no_controls(out, f"{argv} stdout")
        hc.assert_no_controls(err, f"{argv} stderr")
        assert rc in (0, 2) and b"Traceback" not in err, (argv, err)
        assert len(lines(err)) <= 1, (argv, err)


# --- logs: headers from data, bodies on a terminal -------------------------------------------------


def _store_hostile_logs(url: str) -> str:
    """Step logs for the corpus' OSC TaskRun: a hostile step name and a hostile body; returns the PipelineRun."""
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History, Logs, StepLogData

    runs = {r["metadata"]["name"]: r for r in hc.hostile_runs()}
    tr = runs["hostile-osc0-title-task"]
    body = ("\x1b[32mgreen\x1b[0m " + "".join(hc.hostile_strings()[k] for k in
            ("osc0_title", "osc52_clipboard", "csi_clear_screen", "c1_osc", "bidi_override", "zero_width"))).encode()
    db = open_database(url)
    try:
        History(db).apply([Logs(tr, [StepLogData(f"step{hc.hostile_strings()['osc2_title']}", "step-x", body)])])
    finally:
        db.close()
    return "hostile-osc0-title"


def test_logs_headers_and_bodies_on_a_terminal_keep_only_colour(corpus_db) -> None:
    url = corpus_db[0]
    pr = _store_hostile_logs(url)
    ran = run_on_a_terminal([*PROG, "logs", pr, "--db", url],
                            {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"})
    rc, got = ran.returncode, ran.stdout
    assert rc == 0, got
    text = got.decode("utf-8").replace("\r\n", "\n")  # the terminal's line discipline adds CRs
    hc.assert_no_controls(text, "logs on a terminal", allow_sgr=True)
    assert r"==> taskrun hostile-osc0-title-task step step\e]2;pwned-title\e\ <==" in text
    assert "\x1b[32mgreen\x1b[0m" in text  # colour survives
    # into a pipe the header is neutralised too, and the body goes out as stored
    rc, out, err = run_cli("logs", pr, "--db", url)
    assert rc == 0, err
    header, _, body = out.partition(b"\n")
    hc.assert_no_controls(header, "logs header in a pipe")
    assert body.startswith(b"\x1b[32mgreen")


# --- bombs: bounded, and nothing stops the files after them -----------------------------------------

_MEASURE = """
import resource, sys
from tekton_results_tui.cli import main
rc = main(sys.argv[1:])
print("MAXRSS_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
sys.exit(rc)
"""


@pytest.mark.parametrize("bomb", ["alias-bomb.yaml", "deep.json", "deep.yaml", "huge.json"])
def test_a_bomb_is_refused_in_bounded_memory_and_the_next_file_is_imported(tmp_path, bomb: str) -> None:
    files = {p.name: p for p in hc.write_dumps(tmp_path / "dumps")}
    url = "sqlite:///" + str(tmp_path / "h.db")
    p = subprocess.run([sys.executable, "-c", _MEASURE, "import", str(files[bomb]), str(files["good-last.yaml"]),
                        "--db", url], capture_output=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    err = p.stderr.decode()
    assert p.returncode == 1, err  # the bomb skipped, the good file stored
    rss = float(err.rsplit("MAXRSS_MB", 1)[1])
    assert rss < RSS_LIMIT_MB, f"peak RSS {rss:.0f} MB"
    assert f"{files['good-last.yaml']}: 1 runs stored (1 new)" in p.stdout.decode()
    hc.assert_no_controls(p.stdout + p.stderr, "import of a bomb")


def test_dev_zero_ends_with_an_error_and_the_other_files_are_imported(tmp_path) -> None:
    files = {p.name: p for p in hc.write_dumps(tmp_path / "dumps", huge=False)}
    url = "sqlite:///" + str(tmp_path / "h.db")
    rc, out, err = run_cli("import", "/dev/zero", str(files["good-last.yaml"]), "--db", url, timeout=60)
    assert rc == 2
    assert lines(err) == ["tekton-results-tui: error: /dev/zero: cannot read: not a YAML or JSON text dump "
                          "(a NUL byte at offset 0: binary data, or UTF-16 text?)"]
    assert f"{files['good-last.yaml']}: 1 runs stored (1 new)" in out.decode()


def test_stdin_of_binary_data_ends_with_an_error(tmp_path) -> None:
    url = "sqlite:///" + str(tmp_path / "h.db")
    p = subprocess.run([*PROG, "import", "-", "--db", url], input=b"kind: List\n" + b"\0" * 100,
                       capture_output=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 2 and b"a NUL byte at offset 11" in p.stderr, p.stderr


# --- input errors: one line, exit 2 ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["results", "--limit", "9" * 40],
    ["results", "--limit", "-5"],
    ["records", "--page-token", "9" * 40],
    ["results", "dur>" + "9" * 40 + "h"],
    ["results", "since:" + "9" * 40 + "d"],
    ["prune", "--older-than", "99999999999999999d"],
    ["prune", "--older-than", "a\x1b]0;x\x07"],
    ["cleanup", "--keep", "9" * 30, "--dry-run"],
    ["results", "-o", "b\x1b[2Jogus"],
    ["logs", "no-such-run\x1b]52;c;eA==\x07"],
], ids=lambda a: " ".join(a)[:40])
def test_input_errors_are_one_safe_line_and_exit_2(tmp_path, argv: list[str]) -> None:
    url = "sqlite:///" + str(tmp_path / "h.db")
    files = hc.write_dumps(tmp_path / "dumps", huge=False)
    assert run_cli("import", str(files[-1]), "--db", url)[0] == 0  # a history to ask
    rc, out, err = run_cli(*argv, "--db", url)
    assert rc == 2, (argv, err)
    assert len(lines(err)) == 1 and lines(err)[0].startswith("tekton-results-tui"), err
    hc.assert_no_controls(err, "the error line")


@pytest.mark.parametrize("make_db", ["not-sqlite", "random-bytes", "missing-dir", "bad-scheme", "uncreatable"])
def test_bad_databases_are_one_line_errors(tmp_path, make_db: str) -> None:
    good = hc.write_dumps(tmp_path / "dumps", huge=False)[-1]
    if make_db == "not-sqlite":
        (tmp_path / "x.db").write_text("not a database\n")
        url = "sqlite:///" + str(tmp_path / "x.db")
    elif make_db == "random-bytes":
        (tmp_path / "x.db").write_bytes(os.urandom(8192))
        url = "sqlite:///" + str(tmp_path / "x.db")
    elif make_db == "missing-dir":
        url = "sqlite:///" + str(tmp_path / "nope" / "x.db")
    elif make_db == "bad-scheme":
        url = "ftp://example.com/x"
    else:
        (tmp_path / "file").write_text("")
        url = "sqlite:///" + str(tmp_path / "file" / "sub" / "x.db")
    for argv in (["results"], ["import", str(good)]):
        rc, out, err = run_cli(*argv, "--db", url)
        if make_db == "missing-dir" and argv[0] == "import":
            assert rc == 0, err  # a writable open creates the directory
            continue
        assert rc == 2 and len(lines(err)) == 1 and b"Traceback" not in err, (argv, err)
