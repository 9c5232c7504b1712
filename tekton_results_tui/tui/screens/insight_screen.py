"""The base of the full screens opened over the tree (statistics, diff, log search).

The app's tree and detail keys are off while one is open (ResultsApp.check_action asks
`insight_screen_allows`); quit, help, the palette and the other insight screens stay.
"""

from __future__ import annotations

from textual.screen import Screen


class InsightScreen(Screen[None]):
    """A full screen over the tree; `escape` closes it (each subclass binds it)."""
