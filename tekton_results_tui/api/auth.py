"""Who may read what, as upstream's API server decides it: the bearer token goes through a
TokenReview, then a SubjectAccessReview for group `results.tekton.dev`, resource results|records|logs,
verb get|list, the parent as namespace (`-` = all namespaces). `Impersonate-User`/`-Group` headers are
honoured when the caller itself may impersonate (checked by SubjectAccessReviews too). Every failure
is the same bare 401: the caller learns nothing about tokens or rules.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

GROUP = "results.tekton.dev"
SA_PREFIX = "system:serviceaccount:"
ALLOW_CACHE_S = 5.0  # an allowed decision is reused this long (load: one review per client, not per request)
CACHE_MAX = 10_000


class Authorizer(Protocol):
    def allowed(self, headers: Mapping[str, str], namespace: str, resource: str, verb: str) -> bool: ...


class AllowAll:
    """`--auth none`: every request is allowed (only offered on a loopback address)."""

    def allowed(self, headers: Mapping[str, str], namespace: str, resource: str, verb: str) -> bool:
        return True


@dataclass(frozen=True)
class _User:
    name: str
    uid: str | None
    groups: tuple[str, ...]
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _header_values(headers: Any, name: str) -> list[str]:
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall(name, []))
    v = headers.get(name)
    return [v] if v else []


class KubernetesAuthorizer:
    """TokenReview + SubjectAccessReview through the kubernetes client (the watcher's client config)."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self._client = client
        self._authn = client.AuthenticationV1Api(api_client)
        self._authz = client.AuthorizationV1Api(api_client)
        self._cache: dict[tuple, float] = {}
        self._lock = threading.Lock()

    # --- the decision -------------------------------------------------------------------
    @staticmethod
    def _key(headers: Mapping[str, str], namespace: str, resource: str, verb: str) -> tuple | None:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        imp_user = tuple(_header_values(headers, "Impersonate-User"))
        imp_groups = tuple(_header_values(headers, "Impersonate-Group"))
        return (token, imp_user, imp_groups, "" if namespace == "-" else namespace, resource, verb)

    def cached(self, headers: Mapping[str, str], namespace: str, resource: str, verb: str) -> bool:
        """True when the same question was allowed moments ago (no call to the cluster)."""
        key = self._key(headers, namespace, resource, verb)
        if key is None:
            return False
        with self._lock:
            exp = self._cache.get(key)
        return exp is not None and exp > time.monotonic()

    def allowed(self, headers: Mapping[str, str], namespace: str, resource: str, verb: str) -> bool:
        key = self._key(headers, namespace, resource, verb)
        if key is None:
            return False
        token, imp_user_t, imp_groups, ns, _, _ = key
        imp_user = list(imp_user_t)
        now = time.monotonic()
        with self._lock:
            exp = self._cache.get(key)
            if exp is not None and exp > now:
                return True
        try:
            ok = self._decide(token, imp_user, imp_groups, ns, resource, verb)
        except Exception:  # noqa: BLE001 - an unreachable or failing cluster denies, never lets in
            return False
        if ok:
            with self._lock:
                if len(self._cache) >= CACHE_MAX:
                    self._cache.clear()
                self._cache[key] = now + ALLOW_CACHE_S
        return ok

    def _decide(self, token: str, imp_user: list[str], imp_groups: tuple[str, ...], ns: str, resource: str,
                verb: str) -> bool:
        c = self._client
        tr = self._authn.create_token_review(c.V1TokenReview(spec=c.V1TokenReviewSpec(token=token)))
        st = tr.status
        if st is None or not st.authenticated or st.user is None:
            return False
        user = _User(st.user.username or "", st.user.uid, tuple(st.user.groups or ()),
                     tuple((k, tuple(v or ())) for k, v in (st.user.extra or {}).items()))
        if imp_user or imp_groups:
            target = self._impersonated(user, imp_user, imp_groups)
            if target is None:
                return False
            user = target
        return self._sar(user, c.V1ResourceAttributes(namespace=ns, group=GROUP, resource=resource, verb=verb))

    def _impersonated(self, caller: _User, imp_user: list[str], imp_groups: tuple[str, ...]) -> _User | None:
        """The impersonated user when the caller may impersonate every part of it, else None."""
        c = self._client
        if len(imp_user) != 1:
            return None  # groups without a user (or two users) cannot be impersonated, as in Kubernetes
        name = imp_user[0]
        checks = []
        groups = list(imp_groups)
        if name.startswith(SA_PREFIX) and name.count(":") == 3:
            sa_ns, sa_name = name[len(SA_PREFIX):].split(":", 1)
            checks.append(c.V1ResourceAttributes(namespace=sa_ns, name=sa_name, resource="serviceaccounts",
                                                 verb="impersonate"))
            if not groups:
                groups = ["system:serviceaccounts", f"system:serviceaccounts:{sa_ns}"]
        else:
            checks.append(c.V1ResourceAttributes(name=name, resource="users", verb="impersonate"))
        for grp in imp_groups:
            checks.append(c.V1ResourceAttributes(name=grp, resource="groups", verb="impersonate"))
        for ra in checks:
            if not self._sar(caller, ra):
                return None
        return _User(name, None, tuple(groups))

    def _sar(self, user: _User, attrs: Any) -> bool:
        c = self._client
        spec = c.V1SubjectAccessReviewSpec(user=user.name, uid=user.uid, groups=list(user.groups) or None,
                                           extra={k: list(v) for k, v in user.extra} or None,
                                           resource_attributes=attrs)
        sar = self._authz.create_subject_access_review(c.V1SubjectAccessReview(spec=spec))
        return bool(sar.status is not None and sar.status.allowed)
