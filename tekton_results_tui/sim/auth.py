"""TokenReview and SubjectAccessReview for the simulated cluster: the checks an API server such as
Tekton Results' (or `serve --auth kubernetes`) asks the cluster to make about its callers.

Tokens map to users and groups; grants say which subject (a user or a group) may do which verb on
which resource of which API group, in one namespace or in all (`namespace=None`). A review at the
cluster scope (namespace "") is allowed only by an all-namespaces grant, as RBAC decides it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

REVIEW_PATHS = {
    ("authentication.k8s.io", "tokenreviews"): "TokenReview",
    ("authorization.k8s.io", "subjectaccessreviews"): "SubjectAccessReview",
}


@dataclass(frozen=True)
class Grant:
    subject: str  # a user name or a group name
    verbs: frozenset[str]
    resources: frozenset[str]
    group: str
    namespace: str | None  # None: every namespace and the cluster scope
    names: frozenset[str] | None = None


class SimAuth:
    """The cluster's tokens and grants; the tests set them up, the reviews read them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, tuple[str, ...], str]] = {}
        self._grants: list[Grant] = []
        self.reviews: list[dict[str, Any]] = []  # every review asked, in order (what the tests inspect)

    def add_token(self, token: str, user: str, groups: tuple[str, ...] = ("system:authenticated",),
                  uid: str | None = None) -> None:
        with self._lock:
            self._tokens[token] = (user, tuple(groups), uid or f"uid-{user}")

    def allow(self, subject: str, verbs: tuple[str, ...], resources: tuple[str, ...], group: str = "",
              namespace: str | None = None, names: tuple[str, ...] | None = None) -> None:
        with self._lock:
            self._grants.append(Grant(subject, frozenset(verbs), frozenset(resources), group, namespace,
                                      frozenset(names) if names is not None else None))

    def token_review(self, spec: dict[str, Any]) -> dict[str, Any]:
        token = str(spec.get("token") or "")
        with self._lock:
            who = self._tokens.get(token)
        if who is None:
            return {"authenticated": False, "error": "invalid bearer token"}
        user, groups, uid = who
        return {"authenticated": True, "user": {"username": user, "uid": uid, "groups": list(groups)}}

    def access_review(self, spec: dict[str, Any]) -> dict[str, Any]:
        ra = spec.get("resourceAttributes") or {}
        subjects = {str(spec.get("user") or "")} | {str(x) for x in spec.get("groups") or []}
        ns = ra.get("namespace") or ""
        verb, res, grp, name = ra.get("verb", ""), ra.get("resource", ""), ra.get("group", ""), ra.get("name")
        with self._lock:
            self.reviews.append({"user": spec.get("user"), "groups": list(spec.get("groups") or []), **ra})
            for gr in self._grants:
                if gr.subject not in subjects or grp != gr.group:
                    continue
                if not ({verb, "*"} & gr.verbs) or not ({res, "*"} & gr.resources):
                    continue
                if gr.namespace is not None and gr.namespace != ns:
                    continue
                if gr.names is not None and name not in gr.names:
                    continue
                scope = f'in namespace "{gr.namespace}"' if gr.namespace else "cluster-wide"
                return {"allowed": True, "reason": f'RBAC: allowed for "{gr.subject}" {scope}'}
        return {"allowed": False}


def auth_of(cluster: Any) -> SimAuth:
    """The cluster's SimAuth, made on first use."""
    a = getattr(cluster, "auth", None)
    if a is None:
        a = SimAuth()
        cluster.auth = a
    return a


def answer_review(handler: Any, api_group: str, resource: str) -> None:
    """POST .../tokenreviews or .../subjectaccessreviews: the review back with its status (201)."""
    from tekton_results_tui.sim.errors import bad_request

    handler._verb, handler._resource = "create", resource
    body = handler._json_body()
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        raise bad_request(f"{REVIEW_PATHS[(api_group, resource)]}: spec is required")
    a = auth_of(handler.server.cluster)
    status = a.token_review(body["spec"]) if resource == "tokenreviews" else a.access_review(body["spec"])
    handler._json(201, {"kind": REVIEW_PATHS[(api_group, resource)], "apiVersion": f"{api_group}/v1",
                        "metadata": {"creationTimestamp": None}, "spec": body["spec"], "status": status})
