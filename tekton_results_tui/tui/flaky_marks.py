"""Which loaded Results of the tree are flaky (the `flaky:true` rule, asked of the loaded ones).

One read in a worker after a page arrives: History.flaky_among(the loaded Result ids), probes per
Result. (It used to list the tree's filter narrowed by `flaky:true`, whose rebuilt-revision set groups
every Result: 200-500 ms at 1.2M records after every page, beside the next filter's read and frame.)
The tree then marks those lines (FLAKY_MARK where a cleanup mark is not).
"""

from __future__ import annotations

from rich.text import Text

from tekton_results_tui.store.history import History
from tekton_results_tui.tui.background import read_then

FLAKY_MARK = "≈ "


def flaky_label(label: Text) -> Text:
    """A Result line with the flaky mark in its mark column (its first two cells)."""
    out = Text(no_wrap=label.no_wrap, overflow=label.overflow)
    out.append(FLAKY_MARK, style="bold yellow")
    out.append_text(label[len(FLAKY_MARK):])
    return out


def refresh_flaky_marks(tree: "ResultsTree", history: History) -> None:  # noqa: F821
    """Read which loaded Results are flaky and relabel the lines whose mark changed."""
    loaded = list(tree.result_nodes)
    if not loaded:
        return

    def read() -> set[int]:
        return history.flaky_among(loaded)

    def done(ids: set[int] | None, error: BaseException | None) -> None:
        if ids is None:  # an older history without the flaky columns: no marks
            return
        changed = ids ^ tree.flaky
        tree.flaky = ids
        for rid in changed:
            node = tree.result_nodes.get(rid)
            if node is not None and node.data is not None:
                node.set_label(tree._result_label(node.data.row, tree.clock(), rid in tree.marked))

    read_then(tree, history, read, done, group="tree-flaky", exclusive=True, name="flaky marks")
