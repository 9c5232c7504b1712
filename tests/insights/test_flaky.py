"""Flaky runs and tasks: same-revision pairs and retries, as a pure function and from a stored history."""

from __future__ import annotations

from insights_kit import T0, pipelinerun, store, taskrun

from tekton_results_tui.insights.flaky import Flakiness, RunOutcome, find_flaky, retry_flakiness, revision_of, run_flakiness
from tekton_results_tui.store.history import History

BUILD = ("", "ci", "build")


def test_same_revision_with_both_outcomes_is_flaky() -> None:
    runs = [RunOutcome(1, BUILD, "r1", "SUCCESS", name="a"), RunOutcome(2, BUILD, "r1", "FAILURE", name="b"),
            RunOutcome(3, BUILD, "r1", "SUCCESS", name="c"),
            RunOutcome(4, BUILD, "r2", "FAILURE", name="d"), RunOutcome(5, BUILD, "r2", "FAILURE", name="e")]
    got = find_flaky(runs)
    assert set(got) == {1, 2, 3}  # r2 failed twice: consistently, not flaky
    assert got[2] == Flakiness("revision", other="c", other_passed=True)  # the newest passing run
    assert got[1] == Flakiness("revision", other="b", other_passed=False)
    assert got[2].line() == "flaky: same revision passed in run c"
    assert got[1].line() == "flaky: same revision failed in run b"


def test_timeout_is_a_failure_cancel_is_no_outcome() -> None:
    assert set(find_flaky([RunOutcome(1, BUILD, "r", "SUCCESS"), RunOutcome(2, BUILD, "r", "TIMEOUT")])) == {1, 2}
    assert find_flaky([RunOutcome(1, BUILD, "r", "SUCCESS"), RunOutcome(2, BUILD, "r", "CANCELLED"),
                       RunOutcome(3, BUILD, "r", "UNKNOWN")]) == {}


def test_other_pipeline_namespace_or_no_revision_is_no_evidence() -> None:
    runs = [RunOutcome(1, BUILD, "r1", "SUCCESS"), RunOutcome(2, ("", "ci", "deploy"), "r1", "FAILURE"),
            RunOutcome(3, ("", "prod", "build"), "r1", "FAILURE"), RunOutcome(4, BUILD, None, "FAILURE")]
    assert find_flaky(runs) == {}


def test_passed_on_retry() -> None:
    got = find_flaky([RunOutcome(7, BUILD + ("compile",), None, "SUCCESS", retries=2),
                      RunOutcome(8, BUILD + ("compile",), None, "FAILURE", retries=2)])
    assert got == {7: Flakiness("retry", attempt=3)}
    p = pipelinerun("p", created=T0 - 100, start=T0 - 99, end=T0 - 10)
    tr = taskrun(p, "compile", created=T0 - 99, start=T0 - 98, end=T0 - 20, retries=2, failed_attempts=1)
    assert retry_flakiness(tr) == Flakiness("retry", attempt=2, attempts=3)
    assert retry_flakiness(tr).line() == "flaky: passed on retry 2 of 3"  # type: ignore[union-attr]
    failed = taskrun(p, "compile", "fail", created=T0 - 99, start=T0 - 98, end=T0 - 20, retries=2, failed_attempts=2)
    assert retry_flakiness(failed) is None  # retried but never passed: a real failure
    assert retry_flakiness(taskrun(p, "compile", created=T0 - 99, start=T0 - 98, end=T0 - 20)) is None
    assert retry_flakiness({"status": "garbage"}) is None


def test_revision_lookup_order() -> None:
    p = pipelinerun("p", created=T0, revision="from-param", labels={"pipelinesascode.tekton.dev/sha": "from-label"},
                    annotations={"my/rev": "custom"})
    assert revision_of(p) == "from-label"
    p["metadata"]["labels"].pop("pipelinesascode.tekton.dev/sha")
    assert revision_of(p) == "from-param"
    assert revision_of(p, "my/rev") == "custom"
    q = pipelinerun("q", created=T0, params=[{"name": "commit", "value": "c0ffee"}])
    assert revision_of(q) == "c0ffee"
    assert revision_of(pipelinerun("r", created=T0, annotations={"pipelinesascode.tekton.dev/sha": "ann"})) == "ann"
    assert revision_of({"spec": {"params": "not a list"}}) is None


def _pair(h: History, rev_a: str, rev_b: str) -> tuple[dict, dict, dict, dict]:
    a = pipelinerun("a", "ok", created=T0 - 900, start=T0 - 899, end=T0 - 800, revision=rev_a)
    b = pipelinerun("b", "fail", created=T0 - 700, start=T0 - 699, end=T0 - 600, revision=rev_b)
    ta = taskrun(a, "test", created=T0 - 899, start=T0 - 898, end=T0 - 810)
    tb = taskrun(b, "test", "fail", created=T0 - 699, start=T0 - 698, end=T0 - 610)
    store(h, a, b, ta, tb)
    return a, b, ta, tb


def _row(h: History, name: str):  # noqa: ANN202
    return h.find_runs(name)[0]


def test_stored_same_revision_pair(h: History) -> None:
    _pair(h, "r1", "r1")
    assert run_flakiness(h, _row(h, "b")).line() == "flaky: same revision passed in run a"  # type: ignore[union-attr]
    assert run_flakiness(h, _row(h, "a")).line() == "flaky: same revision failed in run b"  # type: ignore[union-attr]
    # the task failed in one run and passed in the other on the same revision
    assert run_flakiness(h, _row(h, "b-test")).line() == "flaky: same revision passed in run a-test"  # type: ignore[union-attr]


def test_stored_different_revisions_not_flaky(h: History) -> None:
    _pair(h, "r1", "r2")
    assert run_flakiness(h, _row(h, "b")) is None
    assert run_flakiness(h, _row(h, "b-test")) is None


def test_stored_revision_from_pac_label_and_user_key(h: History) -> None:
    a = pipelinerun("a", "ok", created=T0 - 900, start=T0 - 899, end=T0 - 800,
                    labels={"pipelinesascode.tekton.dev/sha": "abc"}, annotations={"ci/commit": "x1"})
    b = pipelinerun("b", "fail", created=T0 - 700, start=T0 - 699, end=T0 - 600,
                    labels={"pipelinesascode.tekton.dev/sha": "abc"}, annotations={"ci/commit": "x2"})
    store(h, a, b)
    assert run_flakiness(h, _row(h, "b")) is not None
    assert run_flakiness(h, _row(h, "b"), revision_key="ci/commit") is None  # the user's key says: different code


def test_stored_pipelinerun_flaky_through_a_retried_task(h: History) -> None:
    p = pipelinerun("p", created=T0 - 100, start=T0 - 99, end=T0 - 10, revision="r9")
    tr = taskrun(p, "compile", created=T0 - 99, start=T0 - 98, end=T0 - 20, retries=2, failed_attempts=1)
    store(h, p, tr)
    assert run_flakiness(h, _row(h, "p-compile")).line() == "flaky: passed on retry 2 of 3"  # type: ignore[union-attr]
    assert run_flakiness(h, _row(h, "p")).line() == "flaky: task compile passed on retry 2 of 3"  # type: ignore[union-attr]


def test_user_revision_key_is_data_not_sql(h: History) -> None:
    a = pipelinerun("a", "ok", created=T0 - 900, start=T0 - 899, end=T0 - 800,
                    params=[{"name": "it's", "value": "v1"}])
    b = pipelinerun("b", "fail", created=T0 - 700, start=T0 - 699, end=T0 - 600,
                    params=[{"name": "it's", "value": "v1"}])
    store(h, a, b)
    assert run_flakiness(h, _row(h, "b"), revision_key="it's").line() == "flaky: same revision passed in run a"  # type: ignore[union-attr]
    assert run_flakiness(h, _row(h, "b"), revision_key="x') OR 1=1 --") is None
