"""Which loaded Results of the tree are flaky (the `flaky:true` filter over the tree's own filter).

The tree's lines are a prefix of its filter's listing, newest first; the flaky ones among them are
therefore the first N of the same listing narrowed by `flaky:true` (N = lines loaded). One read in a
worker after a page arrives; the tree then marks those lines (FLAKY_MARK where a cleanup mark is not).
"""

from __future__ import annotations

from rich.text import Text

from tekton_results_tui.store.history import History
from tekton_results_tui.store.query import Filter, parse_filter
from tekton_results_tui.tui.background import read_then

FLAKY_MARK = "≈ "


def flaky_label(label: Text) -> Text:
    """A Result line with the flaky mark in its mark column (its first two cells)."""
    out = Text(no_wrap=label.no_wrap, overflow=label.overflow)
    out.append(FLAKY_MARK, style="bold yellow")
    out.append_text(label[len(FLAKY_MARK):])
    return out


def refresh_flaky_marks(tree: "ResultsTree", history: History, flt: Filter | None, now: float) -> None:  # noqa: F821
    """Read which loaded Results are flaky and relabel the lines whose mark changed."""
    loaded = len(tree.result_nodes)
    if not loaded:
        return
    text = f"{flt.text if flt is not None else ''} flaky:true".strip()

    def read() -> set[int]:
        page = history.list_results(parse_filter(text, now=now), limit=loaded)
        return {r.id for r in page.items}

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
