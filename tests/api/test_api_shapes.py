"""Each read endpoint answers upstream's JSON shapes (proto field names, omitted empty fields, enum
names, base64 data) and says what is wrong with bad input."""

from __future__ import annotations

import base64
import json

import requests
from apikit import API


def test_list_results_shape_and_fields(api) -> None:
    body = api.json("/-/results")
    assert set(body) == {"results"}  # one page: no next_page_token
    by_name = {r["name"]: r for r in body["results"]}
    assert len(by_name) == 6
    p = api.corpus.prs[0]
    r = by_name[api.corpus.result_name(p)]
    assert {"name", "id", "uid", "create_time", "update_time", "created_time", "updated_time", "etag", "summary"} <= set(r)
    assert "annotations" in r and r["annotations"] == {"repo": "web"}
    s = r["summary"]
    assert s["status"] == "SUCCESS" and s["type"] == "tekton.dev/v1.PipelineRun"
    assert s["record"] == f"{api.corpus.result_name(p)}/records/{p['metadata']['uid']}"
    assert s["start_time"] == p["status"]["startTime"] and s["end_time"] == p["status"]["completionTime"]
    assert r["create_time"].endswith("Z") and "T" in r["create_time"]


def test_empty_fields_are_omitted(api) -> None:
    running = api.corpus.prs[3]  # Unknown condition: status UNKNOWN is the enum's zero, no end time
    r = api.json(f"/{api.corpus.result_name(running)}")
    assert "status" not in r["summary"] and "end_time" not in r["summary"]
    assert "annotations" not in r  # none were given
    assert "annotations" not in r["summary"]
    assert api.json(f"/{api.corpus.result_name(api.corpus.prs[0])}")["summary"]["annotations"] == {"owner": "a"}


def test_get_result_and_record_data_is_the_object(api, history) -> None:
    p = api.corpus.prs[1]
    rn = api.corpus.result_name(p)
    assert api.json(f"/{rn}")["name"] == rn
    rec = api.json(f"/{rn}/records/{p['metadata']['uid']}")
    assert rec["name"] == f"{rn}/records/{p['metadata']['uid']}"
    assert rec["data"]["type"] == "tekton.dev/v1.PipelineRun"
    assert json.loads(base64.b64decode(rec["data"]["value"])) == p
    assert set(rec) >= {"uid", "id", "etag", "create_time", "update_time"}


def test_records_of_one_result_and_wildcards(api) -> None:
    p, t = api.corpus.prs[0], api.corpus.trs[0]
    rn = api.corpus.result_name(p)
    uids = {r["uid"] for r in api.json(f"/{rn}/records")["records"]}
    assert {p["metadata"]["uid"], t["metadata"]["uid"]} <= uids and len(uids) == 3  # + the Log record
    rid = rn.rsplit("/", 1)[1]
    assert {r["uid"] for r in api.json(f"/-/results/{rid}/records")["records"]} == uids
    ci = api.json("/ci/results/-/records", page_size=100)["records"]
    assert len(ci) == 12 and all(r["name"].startswith("ci/") for r in ci)
    assert len(api.json("/-/results/-/records", page_size=100)["records"]) == 18
    assert [r["name"] for r in api.json("/prod/results")["results"]] == [
        api.corpus.result_name(x) for x in api.corpus.prs[4:]]


def test_list_logs_lists_log_records(api) -> None:
    logs = api.json("/-/results/-/logs", page_size=100)["records"]
    assert len(logs) == 6 and {r["data"]["type"] for r in logs} == {"results.tekton.dev/v1alpha3.Log"}


def test_both_parameter_spellings(api) -> None:
    snake = api.json("/-/results", page_size=5, order_by="create_time desc")
    camel = api.json("/-/results", pageSize=5, orderBy="create_time desc")
    assert snake == camel and len(snake["results"]) == 5
    nxt_snake = api.json("/-/results", page_size=5, order_by="create_time desc", page_token=snake["next_page_token"])
    nxt_camel = api.json("/-/results", pageSize=5, orderBy="create_time desc", pageToken=snake["next_page_token"])
    assert nxt_snake == nxt_camel and len(nxt_snake["results"]) == 1
    s1 = api.json("/-/results/-/records/summary", group_by="namespace")
    s2 = api.json("/-/results/-/records/summary", groupBy="namespace")
    assert s1 == s2 and {g["group_value"] for g in s1["summary"]} == {"ci", "prod"}


def test_not_found_and_bad_names(api) -> None:
    for path in ("/ci/results/nope", "/ci/results/nope/records/nope", "/-/results/x"):
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == 5 and "not found" in r.json()["message"]
    r = api.get("/bad%20ns/results")
    assert r.status_code == 400 and "invalid parent" in r.json()["message"]
    r = api.get("/ci/results/a%2Fb/records")
    assert r.status_code in (400, 404)
    r = requests.get(api.base + "/apis/results.tekton.dev/v1alpha2/nothing", timeout=10)
    assert r.status_code == 404 and "not a Tekton Results" in r.json()["message"]


def test_write_verbs_are_405_with_a_message(api) -> None:
    rn = api.corpus.result_name(api.corpus.prs[0])
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        r = requests.request(method, api.base + API + f"/{rn}", json={}, timeout=10)
        assert r.status_code == 405, method
        assert "read-only" in r.json()["message"] and method in r.json()["message"]
        assert "GET" in r.headers["Allow"]


def test_healthz_and_metrics(api) -> None:
    assert requests.get(api.base + "/healthz", timeout=10).json() == {"status": "SERVING"}
    api.json("/-/results")
    api.get("/-/results", filter="nope(")
    text = requests.get(api.base + "/metrics", timeout=10).text
    assert 'tekton_results_api_requests_total{code="200",method="GET",route="/apis/results.tekton.dev/v1alpha2/parents/{parent}/results"}' in text
    assert 'code="400"' in text and "tekton_results_api_request_seconds_bucket" in text
