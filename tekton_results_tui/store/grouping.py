"""Run dict -> which Result it joins, its Record name, its status and index columns.

Pure functions (no database): the grouping rules of Tekton Results' watcher
(pkg/watcher/results), and a status mapping that, unlike upstream, sends every
terminal non-success reason to FAILURE rather than UNKNOWN.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tekton_results_tui import kinds
from tekton_results_tui.store.storable import make_storable, warning_for

RESULT_ANNOTATION = "results.tekton.dev/result"
RECORD_ANNOTATION = "results.tekton.dev/record"
STORED_ANNOTATION = "results.tekton.dev/stored"
RESULT_ANNOTATIONS_INPUT = "results.tekton.dev/resultAnnotations"
SUMMARY_ANNOTATIONS_INPUT = "results.tekton.dev/recordSummaryAnnotations"
EVENTID_LABEL = "triggers.tekton.dev/triggers-eventid"
# The source a run built, as statistics and flaky detection group by it (kept by the writer)
REVISION_LABEL = "pipelinesascode.tekton.dev/sha"  # Pipelines-as-Code sets it as a label and an annotation
REVISION_PARAMS = ("revision", "git-revision", "commit")  # in order of preference
REPOSITORY_LABEL = "pipelinesascode.tekton.dev/repository"
REPOSITORY_PARAMS = ("repo-url", "git-url")

TYPE_PIPELINERUN = kinds.PIPELINE_RUN.record_type
TYPE_TASKRUN = kinds.TASK_RUN.record_type
TYPE_LOG = kinds.LOG.record_type
TYPE_EVENTLIST = kinds.EVENT_LIST.record_type
RUN_KINDS = kinds.RUN_KIND_NAMES

# Status strings of a Result summary (Tekton Results' RecordSummary.Status).
UNKNOWN, SUCCESS, FAILURE, TIMEOUT, CANCELLED = "UNKNOWN", "SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"
STATUSES = (UNKNOWN, SUCCESS, FAILURE, TIMEOUT, CANCELLED)

SUCCESS_REASONS = frozenset({"Succeeded", "Completed"})
# Each kind's own reasons come from the registry; these generic ones apply to every kind.
TIMEOUT_REASONS = frozenset({"Timeout"}).union(*(k.timeout_reasons for k in kinds.RUN_KINDS))
CANCEL_REASONS = frozenset({"Cancelled"}).union(*(k.cancel_reasons for k in kinds.RUN_KINDS))
# Reasons Tekton emits while a run still goes on (condition status Unknown); listed for tests and docs.
RUNNING_REASONS = frozenset(
    {
        "Started", "Running", "Pending", "PipelineRunPending", "TaskRunPending",
        "PipelineRunStopping", "StoppingRunningFinally", "CancelledRunningFinally",
        "StoppedRunningFinally", "ResolvingPipelineRef", "ResolvingTaskRef", "ToBeRetried",
    }
)
# Terminal failure reasons Tekton emits (all map to FAILURE, as does any other terminal reason).
FAILURE_REASONS = frozenset(
    {
        "Failed", "StepFailed", "StepOOM", "PodEvicted", "TaskRunImagePullFailed", "CouldntGetPipeline",
        "CouldntGetTask", "CouldntGetPipelineResult", "PipelineValidationFailed", "TaskRunValidationFailed",
        "InvalidPipelineResourceBindings", "ParameterMissing", "ParameterTypeMismatch", "ObjectParameterMissKeys",
        "PipelineInvalidGraph", "InvalidTaskResultReference", "InvalidParamValue", "CreateRunFailed",
        "ExceededNodeResources", "ExceededResourceQuota", "PodCreationFailed", "TaskRunResolutionFailed",
        "PipelineRunCouldntCancel", "PipelineRunCouldntTimeOut", "TaskRunStopSidecarFailed", "ResourceVerificationFailed",
        "RequiredWorkspaceMarkedOptional", "InvalidWorkspaceBindings", "InvalidServiceAccountMappings",
        "PipelineRunTimeoutCouldntCancel", "FailedValidation", "InvalidMatrixParameterTypes",
    }
)


# Limits that keep one hostile object from failing a whole batch on PostgreSQL's varchar columns.
MAX_RESULT_NAME = 512
MAX_NAME = 253  # Kubernetes' own limit for names and namespaces
MAX_UID = 64
MAX_SHORT = 200  # reasons
MAX_ANNOTATION_JSON = 256 * 1024


# kinds whose ownerReference groups a child run into the owner's Result
PARENT_KINDS = frozenset(k.parent for k in kinds.RUN_KINDS if k.parent)


class GroupingError(ValueError):
    """The object is not a run we can store; the message names what is wrong."""


@dataclass(slots=True)
class RunStatus:
    status: str  # UNKNOWN | SUCCESS | FAILURE | TIMEOUT | CANCELLED
    reason: str | None
    message: str | None
    final: bool  # the Succeeded condition is True or False: nothing will change it any more


@dataclass(slots=True)
class RunInfo:
    """Everything the store needs about one run, computed without a database."""

    kind: str
    record_type: str
    namespace: str
    name: str
    uid: str
    rv: int
    result_name: str
    record_name: str
    top_level: bool
    status: str
    reason: str | None
    message: str | None
    final: bool
    start: int | None
    end: int | None
    duration: int | None
    created: int | None
    pipeline: str | None
    pipeline_task: str | None
    task: str | None
    labels: dict[str, str]
    result_annotations: dict[str, Any]
    summary_annotations: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    revision: str | None = None  # see source_of
    repository: str | None = None
    retries: int = 0  # failed attempts before this one (len(status.retriesStatus))

    @property
    def result_id(self) -> str:
        return self.result_name.rsplit("/", 1)[-1]


def parse_time(value: Any) -> int | None:
    """RFC 3339 (as Kubernetes writes it) -> epoch seconds; None when absent or unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)  # Python >= 3.11 reads the trailing Z itself (the fast, usual case)
    except ValueError:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def format_time(epoch: int | float | None) -> str | None:
    """Epoch seconds -> RFC 3339 UTC, as Kubernetes and Tekton Results write it."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def succeeded_condition(obj: dict) -> dict | None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return None
    conds = status.get("conditions")
    if not isinstance(conds, list):
        return None
    for c in conds:
        if isinstance(c, dict) and c.get("type") == "Succeeded":
            return c
    return None


def status_of(obj: dict) -> RunStatus:
    """Summary status from the `Succeeded` condition's status and reason."""
    cond = succeeded_condition(obj)
    if cond is None:
        return RunStatus(UNKNOWN, None, None, False)
    cstatus = str(cond.get("status", "Unknown"))
    reason = cond.get("reason") or None
    message = cond.get("message") or None
    if cstatus == "True":
        return RunStatus(SUCCESS, reason, message, True)
    if cstatus == "False":
        if reason in TIMEOUT_REASONS:
            return RunStatus(TIMEOUT, reason, message, True)
        if reason in CANCEL_REASONS:
            return RunStatus(CANCELLED, reason, message, True)
        return RunStatus(FAILURE, reason, message, True)
    return RunStatus(UNKNOWN, reason, message, False)


MAX_RV = 2**63 - 1  # a BIGINT column; etcd revisions are int64


def parse_rv(value: Any) -> int:
    """resourceVersion -> int (Kubernetes made them comparable); 0 when absent, not a number, or out
    of the int64 range a cluster can produce (0 sorts oldest: any later version replaces it)."""
    if type(value) is str and len(value) <= 19 and value.isdigit():
        rv = int(value)
        return rv if rv <= MAX_RV else 0
    try:
        rv = int(str(value)[:40])
    except (TypeError, ValueError):
        return 0
    return rv if -MAX_RV <= rv <= MAX_RV else 0


def _out_of_range(value: Any) -> bool:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    return text.lstrip("+-").isdigit() and text.lstrip("+-0") != ""


def _json_annotation(annotations: dict, key: str, warnings: list[str], who: str) -> dict[str, Any]:
    raw = annotations.get(key)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str) and len(raw) > MAX_ANNOTATION_JSON:
        warnings.append(f"{who}: annotation {key} is longer than {MAX_ANNOTATION_JSON} bytes; ignored")
        return {}
    try:
        val = json.loads(raw)
    except RecursionError:
        warnings.append(f"{who}: annotation {key} nests too deeply to read; ignored")
        return {}
    except (TypeError, ValueError) as exc:
        warnings.append(f"{who}: annotation {key} is not valid JSON ({exc.__class__.__name__}: {str(exc)[:80]}); ignored")
        return {}
    if not isinstance(val, dict):
        warnings.append(f"{who}: annotation {key} must be a JSON object, got {type(val).__name__}; ignored")
        return {}
    if "\\u" in raw or not raw.isascii():  # NUL or a lone surrogate, escaped or not: the store's rule
        val, changed = make_storable(val)
        if changed:
            warnings.append(warning_for(f"{who}: annotation {key}", changed))
    return val


def _valid_result_name(value: Any, namespace: str) -> bool:
    if not isinstance(value, str) or len(value) > MAX_RESULT_NAME:
        return False
    parts = value.split("/")
    return len(parts) == 3 and parts[0] == namespace and parts[1] == "results" and bool(parts[2])


def result_name_for(obj: dict, warnings: list[str] | None = None) -> str:
    """The Result a run joins: the first grouping rule that applies wins."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or "default"
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    ann = annotations.get(RESULT_ANNOTATION) if isinstance(annotations, dict) else None
    if ann:
        if _valid_result_name(ann, ns):
            return ann
        if warnings is not None:
            warnings.append(
                f"{ns}/{meta.get('name')}: annotation {RESULT_ANNOTATION}={str(ann)[:80]!r} is not '<namespace>/results/<id>'; ignored"
            )
    eventid = labels.get(EVENTID_LABEL) if isinstance(labels, dict) else None
    if eventid:
        return f"{ns}/results/{eventid}"
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") in PARENT_KINDS and ref.get("uid"):
            return f"{ns}/results/{ref['uid']}"
    return f"{ns}/results/{meta.get('uid')}"


def record_name(result_name: str, record_id: str) -> str:
    return f"{result_name}/records/{record_id}"


def record_type_for(kind: str, api_version: str | None = None) -> str:
    """`tekton.dev/v1.PipelineRun`; a v1beta1 object keeps its own version so its data decodes as stored."""
    k = kinds.BY_NAME[kind]
    return f"{api_version}.{kind}" if api_version in k.api_versions else k.record_type


def derived_uid(run_uid: str, what: str) -> str:
    """Stable id of a run's Log or EventList record (same run, same id on every writer)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tekton-results-tui:{what}:{run_uid}"))


def _cap(value: str | None, n: int) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= n else value[:n]


def classify(obj: Any) -> RunInfo:
    """Validate a run object and compute everything the store indexes. Raises GroupingError."""
    if not isinstance(obj, dict):
        raise GroupingError(f"not an object but {type(obj).__name__}")
    kind = obj.get("kind")
    rk = kinds.BY_NAME.get(kind) if isinstance(kind, str) else None
    if rk is None:
        raise GroupingError(f"kind {kind!r} is not {', '.join(RUN_KINDS[:-1])} or {RUN_KINDS[-1]}")
    api = obj.get("apiVersion")
    if api not in rk.api_versions:
        raise GroupingError(f"{kind}: apiVersion {api!r} is not {' or '.join(rk.api_versions)}")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise GroupingError(f"{kind}: no metadata")
    name, uid = meta.get("name"), meta.get("uid")
    if not name or not isinstance(name, str):
        raise GroupingError(f"{kind}: metadata.name missing")
    if not uid or not isinstance(uid, str):
        raise GroupingError(f"{kind} {name}: metadata.uid missing")
    ns = meta.get("namespace") or "default"
    if not isinstance(ns, str):
        raise GroupingError(f"{kind} {name}: metadata.namespace is not a string")
    if len(name) > MAX_NAME or len(ns) > MAX_NAME:
        raise GroupingError(f"{kind} {name[:60]}: name or namespace longer than {MAX_NAME} characters")
    if len(uid) > MAX_UID:
        raise GroupingError(f"{kind} {ns}/{name}: metadata.uid longer than {MAX_UID} characters")
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    if not isinstance(labels, dict) or not isinstance(annotations, dict):
        raise GroupingError(f"{kind} {ns}/{name}: labels/annotations are not maps")
    labels = {str(k): str(v) for k, v in labels.items()}
    status_obj = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}

    warnings: list[str] = []
    result_name = result_name_for(obj, warnings)
    who = f"{kind} {ns}/{name}"
    result_ann = _json_annotation(annotations, RESULT_ANNOTATIONS_INPUT, warnings, who)
    summary_ann = _json_annotation(annotations, SUMMARY_ANNOTATIONS_INPUT, warnings, who)
    st = status_of(obj)
    start = parse_time(status_obj.get("startTime"))
    end = parse_time(status_obj.get("completionTime")) if st.final else None
    if st.final and end is None:
        # terminal without completionTime (seen on v1beta1 cancels): use the condition's time
        cond = succeeded_condition(obj) or {}
        end = parse_time(cond.get("lastTransitionTime"))
    duration = (end - start) if (start is not None and end is not None and end >= start) else None

    pipeline = labels.get(kinds.PIPELINE_RUN.name_label or "")
    task = labels.get("tekton.dev/task") or labels.get("tekton.dev/clusterTask")
    if rk.name_label and rk is not kinds.PIPELINE_RUN and not task:
        task = labels.get(rk.name_label)
    ref = spec.get(rk.ref_field) if rk.ref_field else None
    ref_name = ref["name"] if isinstance(ref, dict) and isinstance(ref.get("name"), str) else None
    if rk is kinds.PIPELINE_RUN:
        pipeline = pipeline or ref_name
    elif not task:
        task = ref_name
    top_level = not meta.get("ownerReferences")
    reason, pipeline_task = st.reason, labels.get("tekton.dev/pipelineTask")
    # caps inline when nothing needs cutting (the usual case): classify runs once per stored object
    if not (reason is None or (type(reason) is str and len(reason) <= MAX_SHORT)):
        reason = _cap(reason, MAX_SHORT)
    if not (pipeline is None or (type(pipeline) is str and len(pipeline) <= MAX_NAME)):
        pipeline = _cap(pipeline, MAX_NAME)
    if not (pipeline_task is None or len(pipeline_task) <= MAX_NAME):
        pipeline_task = _cap(pipeline_task, MAX_NAME)
    if not (task is None or (type(task) is str and len(task) <= MAX_NAME)):
        task = _cap(task, MAX_NAME)
    rv = parse_rv(meta.get("resourceVersion"))
    if rv == 0 and _out_of_range(meta.get("resourceVersion")):
        warnings.append(f"{who}: resourceVersion {str(meta.get('resourceVersion'))[:24]!r}... is out of range; "
                        "stored as 0 (any later version replaces it)")
    return RunInfo(
        kind=kind,
        record_type=record_type_for(kind, api),
        namespace=ns,
        name=name,
        uid=uid,
        rv=rv,
        result_name=result_name,
        record_name=record_name(result_name, uid),
        top_level=top_level,
        status=st.status,
        reason=reason,
        message=st.message,
        final=st.final,
        start=start,
        end=end,
        duration=duration,
        created=parse_time(meta.get("creationTimestamp")),
        pipeline=pipeline,
        pipeline_task=pipeline_task,
        task=task,
        labels=labels,
        result_annotations=result_ann,
        summary_annotations=summary_ann,
        warnings=warnings,
        revision=source_of(labels, spec, annotations, REVISION_LABEL, REVISION_PARAMS, True),
        repository=source_of(labels, spec, annotations, REPOSITORY_LABEL, REPOSITORY_PARAMS, False),
        retries=len(status_obj["retriesStatus"]) if isinstance(status_obj.get("retriesStatus"), list) else 0,
    )


def _param_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def source_of(labels: dict[str, str], spec: dict, annotations: dict, label: str, params: tuple[str, ...],
              annotation: bool) -> str | None:
    """A run's source revision or repository: the label, else the first of `params` in the run's
    params, else (`annotation`) the annotation named like the label. None when none is recorded."""
    v = labels.get(label)
    if v is not None:
        return v[:MAX_NAME]
    ps = spec.get("params")
    if isinstance(ps, list):
        found = {p.get("name"): p.get("value") for p in ps if isinstance(p, dict) and p.get("name") in params}
        for name in params:
            text = _param_text(found.get(name))
            if text is not None:
                return text[:MAX_NAME]
    if annotation:
        text = _param_text(annotations.get(label))
        if text is not None:
            return text[:MAX_NAME]
    return None
