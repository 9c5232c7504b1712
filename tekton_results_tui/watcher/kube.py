"""Which cluster to talk to and a client for it (Kubernetes errors: kube_errors.py).

Config order (DESIGN §5): explicit --kubeconfig/--context, then $KUBECONFIG (every
path of a multi-path value; the first file holding the wanted context wins) or
~/.kube/config, then in-cluster, else a clear error. `config.load_config()` is not
used: it breaks on a multi-path KUBECONFIG.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from tekton_results_tui.kinds import RunKind
from tekton_results_tui.watcher.kube_errors import (  # noqa: F401 - KubeError and the wording are re-exported
    ApiError,
    Forbidden,
    KubeError,
    Unauthorized,
    Unreachable,
    api_call,
    api_message,
    describe,
    retry_after,
    where,
)

VERSION_TIMEOUT = (3.0, 5.0)  # (connect, read) for the start-up reachability check


@dataclass
class KubeTarget:
    """The chosen cluster: its context name, server URL and a client configuration."""

    context: str
    server: str
    configuration: client.Configuration
    namespace: str | None = None  # the context's default namespace
    in_cluster: bool = False

    def __post_init__(self) -> None:
        # urllib3 would silently retry 429/503 (sleeping Retry-After) and read errors; the
        # informers own retries so that every error is counted, shown and backed off.
        import urllib3

        self.configuration.retries = urllib3.Retry(total=2, connect=2, read=1, status=0, redirect=0, other=0,
                                                   respect_retry_after_header=False, raise_on_status=False)

    def new_api_client(self) -> client.ApiClient:
        """A fresh ApiClient (own connection pool): one per long-lived stream."""
        return client.ApiClient(self.configuration)


def _candidate_files(kubeconfig: str | None) -> list[str]:
    if kubeconfig:
        path = os.path.expanduser(kubeconfig)
        if not os.path.isfile(path):
            raise KubeError(f"kubeconfig {kubeconfig} not found")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in (os.path.expanduser(x) for x in env.split(os.pathsep) if x) if os.path.isfile(p)]
    default = os.path.expanduser("~/.kube/config")
    return [default] if os.path.isfile(default) else []


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise KubeError(f"kubeconfig {path} cannot be read: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeError(f"kubeconfig {path} is not a kubeconfig (not a YAML mapping)")
    return data


def load_target(kubeconfig: str | None = None, context: str | None = None) -> KubeTarget:
    """Resolve the cluster as kubectl would; KubeError (one line) when it cannot."""
    files = _candidate_files(kubeconfig)
    docs = [(p, _read_yaml(p)) for p in files]
    if docs:
        wanted = context or next((d.get("current-context") for _, d in docs if d.get("current-context")), None)
        if not wanted:
            raise KubeError(f"no current context in kubeconfig {os.pathsep.join(files)}; use --context NAME")
        for path, doc in docs:
            names = [c.get("name") for c in doc.get("contexts") or [] if isinstance(c, dict)]
            if wanted in names:
                return _from_file(path, wanted, doc)
        known = sorted({str(c.get("name")) for _, d in docs for c in d.get("contexts") or [] if isinstance(c, dict)})
        raise KubeError(f"context {wanted!r} not found in kubeconfig {os.pathsep.join(files)}"
                        + (f" (contexts: {', '.join(known)})" if known else " (it has no contexts)"))
    if context:
        raise KubeError(f"context {context!r} given but no kubeconfig found (--kubeconfig, $KUBECONFIG or ~/.kube/config)")
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        cfg = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise KubeError(f"in-cluster config: {exc}") from None
        return KubeTarget(context="in-cluster", server=cfg.host, configuration=cfg, in_cluster=True)
    raise KubeError("no kubeconfig found (--kubeconfig, $KUBECONFIG or ~/.kube/config) and not running in a cluster")


def _from_file(path: str, ctx: str, doc: dict[str, Any]) -> KubeTarget:
    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=path, context=ctx, client_configuration=cfg, persist_config=False)
    except (ConfigException, ValueError, TypeError, KeyError, OSError) as exc:
        raise KubeError(f"kubeconfig {path}, context {ctx!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    ns = None
    for c in doc.get("contexts") or []:
        if isinstance(c, dict) and c.get("name") == ctx:
            ns = (c.get("context") or {}).get("namespace")
    return KubeTarget(context=ctx, server=cfg.host, configuration=cfg, namespace=ns)


# --- calls used by several parts ------------------------------------------------------------


def list_runs(co: client.CustomObjectsApi, kind: RunKind, namespace: str | None, **kw: Any) -> Any:
    """LIST one run kind in a namespace, or across the cluster when `namespace` is None."""
    if namespace:
        return co.list_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural, **kw)
    return co.list_cluster_custom_object(kind.group, kind.version, kind.plural, **kw)


def check_reachable(target: KubeTarget) -> str:
    """GET /version with a short timeout; returns the git version or raises KubeError."""
    api = target.new_api_client()
    try:
        with api_call("get", "/version", None, target.server):
            info = client.VersionApi(api).get_code(_request_timeout=VERSION_TIMEOUT)
        return str(getattr(info, "git_version", "") or "")
    except (Unauthorized, Forbidden) as exc:
        raise exc.with_traceback(None) from None
    except ApiError:
        return ""  # answered: reachable (some clusters hide /version)
    except KubeError as exc:  # connection refused, DNS, TLS, timeout
        raise exc.with_traceback(None) from None
    except Exception as exc:  # noqa: BLE001 - anything else the client raises: still one line
        raise Unreachable(describe(exc, "get", "/version", None, target.server)) from None
    finally:
        api.close()
