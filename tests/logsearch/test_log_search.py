"""Searching every stored step log (History.search_logs) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from logkit import all_hits, store_run, where
from store_objects import T0

from tekton_results_tui.store.history import History, LogQueryError

BUILD_LOG = (b"Cloning into '/workspace/src'...\n"
             b"go: downloading golang.org/x/net v0.21.0\n"
             b"error: read tcp 10.0.0.1:443: connection reset by peer\n"
             b"retrying: connection was reset by the peer\n"
             b"ok  \tgithub.com/acme/app\t0.12s\n")


def test_words_phrases_and_exclusions(h: History) -> None:
    store_run(h, "b1", {"build": BUILD_LOG})
    # words: all on one line, in any order
    assert where(all_hits(h, "peer connection")) == [("b1-t", "build", 3), ("b1-t", "build", 4)]
    # a phrase: those characters in that order
    assert where(all_hits(h, '"reset by peer"')) == [("b1-t", "build", 3)]
    assert where(all_hits(h, '"connection reset"')) == [("b1-t", "build", 3)]
    # -word leaves lines holding it out
    assert where(all_hits(h, "connection -retrying")) == [("b1-t", "build", 3)]
    assert where(all_hits(h, 'reset -"by peer"')) == [("b1-t", "build", 4)]
    # ASCII case is ignored; the hit says where the match is in the line
    hit = h.search_logs("CONNECTION RESET").hits[0]
    assert hit.line == 3 and hit.plain[hit.spans[0][0]:hit.spans[0][1]] == "connection"
    assert [hit.plain[a:b] for a, b in hit.spans] == ["connection", "reset"]
    assert h.search_logs("nowhere-to-be-found").hits == []


def test_special_characters_are_literal(h: History) -> None:
    log = (b'say "hi" to the world\n'          # 1
           b"glob a*b matched\n"               # 2
           b"aXXb is not a*b\n"                # 3 (holds a*b too)
           b"run --flag=x here\n"              # 4
           b"key:value pair\n"                 # 5
           b"100%_done now\n"                  # 6
           b"100xydone decoy\n"                # 7: % and _ are not wildcards
           b"path C:\\temp\\x\n"               # 8
           b"a-b-c dashes\n")                  # 9
    store_run(h, "s1", {"s": log})
    assert where(all_hits(h, r'"say \"hi\""')) == [("s1-t", "s", 1)]
    assert where(all_hits(h, 'a*b')) == [("s1-t", "s", 2), ("s1-t", "s", 3)]
    assert where(all_hits(h, '"--flag=x"')) == [("s1-t", "s", 4)]
    assert where(all_hits(h, "key:value")) == [("s1-t", "s", 5)]
    assert where(all_hits(h, "100%_done")) == [("s1-t", "s", 6)]
    assert where(all_hits(h, r'"C:\\temp"')) == [("s1-t", "s", 8)]
    assert where(all_hits(h, "a-b-c")) == [("s1-t", "s", 9)]
    assert where(all_hits(h, 'hi"')) == [("s1-t", "s", 1)]  # a quote inside a word is a character


def test_unicode(h: History) -> None:
    log = ("Größe überschritten: 3 GiB\n"
           "日本語のログ行です\n"
           "deploy finished 🚀 in 3s\n"
           "ÜBERSCHRITTEN in capitals\n").encode()
    store_run(h, "u1", {"s": log})
    assert where(all_hits(h, "überschritten")) == [("u1-t", "s", 1)]  # only ASCII letters fold, on both engines
    assert where(all_hits(h, "größe")) == [("u1-t", "s", 1)]
    assert where(all_hits(h, "語のロ")) == [("u1-t", "s", 2)]
    assert where(all_hits(h, '"finished 🚀"')) == [("u1-t", "s", 3)]
    hit = h.search_logs("ログ行").hits[0]
    assert hit.plain[hit.spans[0][0]:hit.spans[0][1]] == "ログ行"


def test_ansi_colour_is_not_matched_but_kept(h: History) -> None:
    log = (b"\x1b[1m\x1b[31merror\x1b[0m: build \x1b[33mfailed\x1b[0m\n"
           b"plain error: build failed\n"
           b"\x1b]8;;https://x.example\x1b\\link text\x1b]8;;\x1b\\ here\n")
    store_run(h, "c1", {"s": log})
    hits = all_hits(h, '"error: build failed"')
    assert where(hits) == [("c1-t", "s", 1), ("c1-t", "s", 2)]
    assert hits[0].text.startswith("\x1b[1m\x1b[31merror") and hits[0].plain == "error: build failed"
    assert all_hits(h, "31merror") == [] and all_hits(h, "[0m") == []
    assert where(all_hits(h, '"link text here"')) == [("c1-t", "s", 3)]


def test_context_lines_and_line_numbers(h: History) -> None:
    log = b"".join(b"line %d\n" % i for i in range(1, 101)) + b"unterminated last"
    store_run(h, "x1", {"s": log})
    hit = h.search_logs('"line 50"', context=2).hits[0]
    assert hit.line == 50 and hit.before == ["line 48", "line 49"] and hit.after == ["line 51", "line 52"]
    first = h.search_logs('"line 1"', context=3).hits[0]
    assert first.line == 1 and first.before == []
    last = h.search_logs("unterminated", context=3).hits[0]
    assert last.line == 101 and last.after == [] and last.before == ["line 98", "line 99", "line 100"]


def test_a_10_mb_log(h: History) -> None:
    lines = [b"2026-05-01T00:00:00Z step %07d compiling package github.com/acme/pkg%d" % (i, i % 97)
             for i in range(140_000)]
    lines[123_456] += b" NEEDLE-in-haystack"
    lines[7] += b" NEEDLE-in-haystack"
    text = b"\n".join(lines) + b"\n"
    assert len(text) > 10_000_000
    store_run(h, "big", {"build": text})
    assert where(all_hits(h, "needle-in-haystack")) == [("big-t", "build", 8), ("big-t", "build", 123_457)]
    # a word on every 97th line, page after page: no gap, no repeat
    hits = all_hits(h, '"github.com/acme/pkg96"', limit=300)
    assert [x.line for x in hits] == [i + 1 for i in range(140_000) if i % 97 == 96]


def test_newest_runs_first_and_pages(h: History) -> None:
    for n in range(6):
        store_run(h, f"r{n}", {"a": b"shared marker one\nshared marker two\n", "b": b"shared marker three\n"},
                  created=T0 - 6000 + n * 600)
    hits = all_hits(h, "marker", limit=4)
    runs = [x.run_name for x in hits]
    assert runs == [f"r{n}-t" for n in reversed(range(6)) for _ in range(3)]  # newest run first
    assert [(x.step, x.line) for x in hits[:3]] == [("a", 1), ("a", 2), ("b", 1)]  # a run's steps in order
    assert len({(x.step_log_id, x.line) for x in hits}) == 18
    assert h.search_logs("marker", limit=18).next_token is None


def test_run_filter(h: History) -> None:
    store_run(h, "ok-build", {"s": b"fatal: timeout reached\n"}, pipeline="build")
    store_run(h, "bad-build", {"s": b"fatal: timeout reached\n"}, pipeline="build", failed=True)
    store_run(h, "bad-deploy", {"s": b"fatal: timeout reached\n"}, pipeline="deploy", failed=True, ns="prod")
    store_run(h, "old-build", {"s": b"fatal: timeout reached\n"}, pipeline="build", failed=True,
              created=T0 - 30 * 86400)
    names = lambda flt: sorted(x.pipeline_run for x in all_hits(h, "timeout", flt))  # noqa: E731
    assert names("") == ["bad-build", "bad-deploy", "ok-build", "old-build"]
    assert names("status:failed") == ["bad-build", "bad-deploy", "old-build"]
    assert names("status:failed pipeline:build") == ["bad-build", "old-build"]
    assert names("status:failed pipeline:build since:7d") == ["bad-build"]
    assert names("ns:prod") == ["bad-deploy"]
    assert names("-status:failed") == ["ok-build"]
    assert names("pipeline:nothing") == []


@pytest.mark.parametrize("query, says", [
    ("", "empty search"), ("   ", "empty search"), ("-", 'lone "-"'), ("foo - bar", 'lone "-"'),
    ('"', "unclosed quote"), ('"abc', "unclosed quote"), ('""', "empty phrase"), ("-foo", "nothing to find"),
    ("ab", "fewer than 3 characters"), ("a_b %x", "fewer than 3 characters"), ("x" * 1001, "at most 1000"),
    (" ".join(["word"] * 21), "too many"),
])
def test_bad_queries_are_one_line_errors(h: History, query: str, says: str) -> None:
    with pytest.raises(LogQueryError, match=says) as got:
        h.search_logs(query)
    assert "\n" not in str(got.value)


def test_short_words_beside_a_long_one(h: History) -> None:
    store_run(h, "w1", {"s": b"exit code 1 in go vet\nexit code 2 in go test\n"})
    assert where(all_hits(h, '"exit code" 2')) == [("w1-t", "s", 2)]
    assert where(all_hits(h, "code go -vet")) == [("w1-t", "s", 2)]


def test_bad_page_token(h: History) -> None:
    with pytest.raises(LogQueryError, match="bad page token"):
        h.search_logs("anything", page_token="nonsense")


def test_a_filter_that_keeps_an_old_run_reads_on_through_batches(h: History, monkeypatch) -> None:
    from tekton_results_tui.store import log_search

    body = b"".join(b"common line %d\n" % i for i in range(200))  # 4 blocks a step log
    store_run(h, "oldest", {"s": body}, failed=True, created=T0 - 90_000)
    for n in range(30):
        store_run(h, f"newer{n}", {"s": body}, created=T0 - 80_000 + n * 60)
    hits = all_hits(h, "common", "status:failed", limit=150)
    assert [x.run_name for x in hits] == ["oldest-t"] * 200 and [x.line for x in hits] == list(range(1, 201))
    # a page that reaches its scan budget returns what it found with a token to go on from
    monkeypatch.setattr(log_search, "SCAN_BUDGET", 64)
    first = h.search_logs("common", "status:failed", limit=50)
    assert first.hits == [] and first.next_token is not None
    assert [x.line for x in all_hits(h, "common", "status:failed", limit=150)] == list(range(1, 201))


def test_a_rare_word_below_the_newest_blocks(h: History, monkeypatch) -> None:
    """PostgreSQL reads the newest blocks in order first, then the trigram index below them."""
    from tekton_results_tui.store import log_search

    monkeypatch.setattr(log_search, "RECENT_BLOCKS", 3)
    monkeypatch.setattr(log_search, "MAX_WINDOW", 3)
    store_run(h, "old", {"s": b"quite rare-word here\n" + b"filler\n" * 100}, created=T0 - 9000)
    for n in range(8):
        store_run(h, f"new{n}", {"s": b"filler\n" * 100 + b"rare-word again\n"}, created=T0 - 8000 + n * 60)
    hits = all_hits(h, "rare-word", limit=3)
    assert [x.run_name for x in hits] == [f"new{n}-t" for n in reversed(range(8))] + ["old-t"]
    assert [x.line for x in hits] == [101] * 8 + [1]


def test_a_filter_over_a_common_word_walks_on_in_key_order(h: History, monkeypatch) -> None:
    """PostgreSQL: where the words are common, batches walk blocks in key order (never the whole-table
    trigram recheck) even when the filter keeps few of them."""
    from tekton_results_tui.store import log_search

    monkeypatch.setattr(log_search, "RECENT_BLOCKS", 3)
    monkeypatch.setattr(log_search, "MAX_WINDOW", 3)
    body = b"".join(b"common line %d\n" % i for i in range(200))
    store_run(h, "oldest", {"s": body}, failed=True, created=T0 - 90_000)
    for n in range(10):
        store_run(h, f"newer{n}", {"s": body}, created=T0 - 80_000 + n * 60)
    hits = all_hits(h, "common", "status:failed", limit=40)
    assert [x.run_name for x in hits] == ["oldest-t"] * 200 and [x.line for x in hits] == list(range(1, 201))
