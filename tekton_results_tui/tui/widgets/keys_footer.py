"""The Footer of keys, rebuilt only when the keys it shows change.

Textual's Footer recomposes (removes and mounts every key widget, then restyles each) on every
`refresh_bindings` — a focus move, a mark, the permission check, the keymap — once per call. At startup
that was 8 recomposes of ~15 keys, a large share of the app's compose-to-first-frame time. This one
queues at most one rebuild per refresh and skips it when the shown keys are the same as last time, and
builds each key in the footer's compact state (a FooterKey starts compact and is restyled on mount
when the footer is not: one style pass per key).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """A Footer that recomposes only when its keys (key, label, enabled, tooltip) change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued = False
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # the palette key is not bound to the footer's compact state (Textual keeps it compact)
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._queued:
            self._queued = True
            self.call_after_refresh(self._recompose_if_changed)

    def _signature(self) -> tuple[object, ...]:
        app = self.app
        keys = tuple((b, app.get_key_display(b), enabled, tooltip)
                     for (_, b, enabled, tooltip) in self.screen.active_bindings.values() if b.show)
        return keys, self.show_command_palette, app.ENABLE_COMMAND_PALETTE

    async def _recompose_if_changed(self) -> None:
        self._queued = False
        if not self.is_attached:
            return
        signature = self._signature()
        if signature == self._shown:
            return
        self._shown = signature
        await self.recompose()
