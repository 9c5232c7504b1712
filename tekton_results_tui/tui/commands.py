"""The command palette (`ctrl+p`): jump to a run by name, switch theme, toggle panes, copy name.

Textual parses a hit's help and `Matcher.highlight`'s candidate as markup, so run names and namespaces
(data) go only into a prompt built as plain Content (`highlight_plain`), controls shown as escapes.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from tekton_results_tui.textsafe import visible

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

def highlight_plain(matcher: Matcher, candidate: str) -> Content:
    """`matcher.highlight(candidate)` without reading the candidate as markup."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if score:
        for offset in offsets:
            if not candidate[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


PANE_LAYOUTS = {"both": "Panes: tree and detail", "tree": "Panes: tree only", "detail": "Panes: detail only"}


class ResultsCommands(Provider):
    """Static commands plus runs found in the history by (part of) their name."""

    @property
    def results_app(self) -> "ResultsApp":
        return self.app  # type: ignore[return-value]

    def _static(self) -> list[tuple[str, object, str]]:
        app = self.results_app
        cmds: list[tuple[str, object, str]] = []
        for layout, title in PANE_LAYOUTS.items():
            cmds.append((title, partial(app.set_panes, layout), "show these panes"))
        cmds.append(("Copy name of the selection", app.action_copy_name, "copy to the clipboard"))
        cmds.append(("Reload the history", app.action_reload, "ctrl+r"))
        for theme in sorted(app.available_themes):
            cmds.append((f"Theme: {theme}", partial(app.set_theme_named, theme), "switch theme"))
        cmds.extend(app.cleanup_commands())
        cmds.extend(app.insight_commands())
        return cmds

    async def discover(self) -> Hits:
        for title, cb, help_text in self._static():
            if title.startswith("Theme: "):
                continue  # themes show once the user types
            yield DiscoveryHit(title, cb, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, cb, help_text in self._static():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight_plain(matcher, title), cb, help=help_text)  # type: ignore[arg-type]
        q = query.strip()
        if len(q) < 2:
            return
        app = self.results_app
        for name, ns, result_id in await self._find_runs(q):
            title = f"Jump to {visible(ns)}/{visible(name)}"
            yield Hit(max(matcher.match(title), 0.5), highlight_plain(matcher, title),
                      partial(app.jump_to_result, result_id, name), help="jump to this run")

    async def _find_runs(self, q: str) -> list[tuple[str, str, int]]:
        """Exact run names first (find_runs), then Results whose names contain the text."""
        app = self.results_app

        def look() -> list[tuple[str, str, int]]:
            out: dict[int, tuple[str, str, int]] = {}
            for rec in app.history.find_runs(q, limit=10):
                out.setdefault(rec.result_id, (rec.run_name, rec.parent, rec.result_id))
            try:
                page = app.history.list_results(q if " " not in q and ":" not in q else None, limit=10)
            except ValueError:
                page = None
            for row in page.items if page else []:
                out.setdefault(row.id, (row.display_name or row.name, row.parent, row.id))
            return list(out.values())[:15]

        import asyncio

        return await asyncio.to_thread(look)
