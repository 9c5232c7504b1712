"""Hand-made pairs of runs for the diff tests, built with the insights tests' run builders."""

from __future__ import annotations

import sys
from pathlib import Path

# the run builders of the insights tests and the CLI runner of the CLI tests (appended: nothing is shadowed)
for _kit in ("insights", "cli"):
    if str(Path(__file__).resolve().parents[1] / _kit) not in sys.path:
        sys.path.append(str(Path(__file__).resolve().parents[1] / _kit))

from clikit import Cli  # noqa: E402
from insights_kit import T0, pipelinerun, store, taskrun  # noqa: E402

__all__ = ["Cli", "T0", "pipelinerun", "store", "taskrun", "with_images", "SPEC"]

SPEC = [{"name": "clone", "taskRef": {"name": "git-clone"}},
        {"name": "compile", "runAfter": ["clone"], "taskRef": {"name": "golang-build"}},
        {"name": "test", "runAfter": ["compile"], "taskRef": {"name": "golang-test"}}]


def with_images(tr: dict, images: dict[str, tuple[str, str]]) -> dict:
    """Give a TaskRun's steps images and digests (step -> (image, imageID)) and the resolved taskSpec that names them."""
    steps = []
    for s in tr["status"].get("steps", []):
        if s["name"] in images:
            s["imageID"] = images[s["name"]][1]
        steps.append({"name": s["name"], "image": images.get(s["name"], ("busybox", ""))[0], "script": "make"})
    tr["status"]["taskSpec"] = {"steps": steps}
    return tr

