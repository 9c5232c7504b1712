"""The Search-logs screen: type words or "phrases", see the matching lines of every stored step log,
grouped by run, newest runs first, matches highlighted (in their stored colours); `enter` opens that
run's Logs tab at that line with the match highlighted.

Runs are scoped by the filter bar's filter (the same language). Each search runs in a thread worker
of an exclusive group (a newer keystroke cancels the older search); `m` or the last line fetches the
next page. A query the index cannot take (empty, a lone operator, only short words) is one line of
words under the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tekton_results_tui.store.history import LogHit, LogSearchPage, RecordRow, ResultRow
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then
from tekton_results_tui.tui.screens.insight_screen import InsightScreen
from tekton_results_tui.tui.text_safety import ansi_lines

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

CONTEXT = 1  # lines shown around each hit
PAGE = 50  # hits per page
# Hits kept on the screen: its memory grows ~8 KB a hit (measured on the 5M-line history: 61 MB at the
# first page, 107 MB at 5,000 hits; bench/logsearch_bench.py --tui-memory), so browsing stays under
# 200 MB; past this many, narrowing the search (or `logs --grep`, which streams) is the way.
MAX_HITS = 10_000
# Characters of a line a hit keeps (the list shows one screen line of each): a log of megabyte-long lines
# (minified JSON) must not hold megabytes per hit. A longer matched line keeps a window from a little
# before its first match, shown from "…"; its colour goes (the stored line is cut in plain text).
LINE_KEEP = 2_000
LEAD = 100  # characters kept before the first match when the window does not start the line
DEBOUNCE_S = 0.35  # typing pauses this long before a search starts
MATCH = "bold black on yellow"
MORE = "more"


@dataclass
class Found:
    query: str
    page: LogSearchPage
    building: bool = False  # the index is incomplete and something (a watcher) is building it


def kept(hit: LogHit) -> LogHit:
    """The hit as the screen keeps it: every line at most LINE_KEEP characters (spans moved with the window)."""
    if len(hit.text) <= LINE_KEEP and all(len(x) <= LINE_KEEP for x in hit.before + hit.after):
        return hit
    plain, spans = hit.plain, hit.spans
    if len(hit.text) > LINE_KEEP:
        start = max(0, (spans[0][0] if spans else 0) - LEAD)
        if start:
            plain = "…" + plain[start + 1:start + LINE_KEEP]
        else:
            plain = plain[:LINE_KEEP]
        lo = 1 if start else 0  # "…" stands for the character at `start`
        spans = [(a - start, b - start) for a, b in spans if a - start >= lo and b - start <= len(plain)]
        text = plain
    else:
        text = hit.text
    return replace(hit, text=text, plain=plain, spans=spans, before=[x[:LINE_KEEP] for x in hit.before],
                   after=[x[:LINE_KEEP] for x in hit.after])


def hit_text(hit: LogHit) -> Text:
    """The hit's line in its stored colours with the matches highlighted (spans are in the plain text)."""
    coloured = next(iter(ansi_lines(hit.text)), Text())
    text = coloured if coloured.plain == hit.plain else Text(visible(hit.plain))
    if text.plain == hit.plain:
        for a, b in hit.spans:
            text.stylize(MATCH, a, b)
    return text


def _context_line(line_no: int, raw: str, width: int) -> Text:
    body = next(iter(ansi_lines(raw)), Text())
    body.stylize("dim")
    return Text.assemble((f"{line_no:>{width}}  ", "dim"), body, no_wrap=True, overflow="ellipsis")


def hit_prompt(hit: LogHit, shown_upto: int = 0, next_line: int | None = None) -> Text:
    """A hit with its context: numbered lines, the hit's number bold. Context lines the previous hit of the
    same step log showed (up to `shown_upto`) or the next one will show (from `next_line`) are left out."""
    width = len(str(hit.line + len(hit.after)))
    lines: list[Text] = []
    first = hit.line - len(hit.before)
    for k, raw in enumerate(hit.before):
        if first + k > shown_upto:
            lines.append(_context_line(first + k, raw, width))
    main = Text.assemble((f"{hit.line:>{width}}", "bold cyan"), ": ", hit_text(hit), no_wrap=True,
                         overflow="ellipsis")
    lines.append(main)
    for k, raw in enumerate(hit.after):
        if next_line is None or hit.line + 1 + k < next_line:
            lines.append(_context_line(hit.line + 1 + k, raw, width))
    return Text("\n").join(lines)


def group_header(hit: LogHit) -> Text:
    run = hit.pipeline_run or hit.run_name
    t = Text.assemble(("● ", "magenta"), (visible(hit.namespace), "cyan"), "/", (visible(run), "bold"), no_wrap=True,
                      overflow="ellipsis")
    return t


def _step_of(hit: LogHit) -> Text:
    return Text.assemble("  ", (visible(hit.run_name), "dim"), (" › ", "dim"), (visible(hit.step), "blue"),
                         no_wrap=True, overflow="ellipsis")


class LogSearchScreen(InsightScreen):
    """Search every stored step log; hits grouped by run."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="logsearch.close"),
        Binding("enter", "open_hit", "Open in Logs", id="logsearch.open"),
        Binding("m", "more", "More hits", id="logsearch.more", show=False),
        Binding("tab", "switch_focus", "Field/hits", id="logsearch.focus", show=False),
        Binding("question_mark", "app.help", "Help", id="logsearch.help", key_display="?", show=False),
    ]

    DEFAULT_CSS = """
    LogSearchScreen { layout: vertical; }
    LogSearchScreen #logsearch-query { height: 3; margin: 0 0; }
    LogSearchScreen #logsearch-status { height: 1; padding: 0 1; background: $boost; }
    LogSearchScreen #logsearch-hits { height: 1fr; border: none; }
    """

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial = query
        self.query_text = ""
        self.hits: list[LogHit] = []
        self.next_token: str | None = None
        self.error: str | None = None
        self.searching = False
        self.complete = True
        self.pending = 0  # step logs not in the index yet (not searched)
        self.building = False
        self.searches = 0  # answers applied (tests wait on it)
        self._timer: Timer | None = None

    @property
    def results_app(self) -> "ResultsApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Input(value=self.initial, placeholder='words or "a phrase" (-word leaves lines out) — enter',
                    id="logsearch-query")
        yield Static(id="logsearch-status")
        yield OptionList(id="logsearch-hits")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._status()
        if self.initial.strip():
            self.start(self.initial)

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#logsearch-hits", OptionList)

    # --- searching -----------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        self._timer = self.set_timer(DEBOUNCE_S, lambda: self.start(text) if text.strip() else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        if event.value != self.query_text or self.error:
            self.start(event.value)
        if self.hits:
            self.option_list.focus()

    def start(self, query: str, token: str | None = None) -> None:
        """Search `query` in the runs the filter bar keeps (a newer search cancels this one)."""
        app = self.results_app
        flt = app.filter
        self.searching = True
        if token is None:
            self.query_text = query
        self._status()

        def read() -> Found:
            page = app.history.search_logs(query, flt, context=CONTEXT, page_token=token, limit=PAGE)
            page.hits = [kept(h) for h in page.hits]
            return Found(query, page, not page.index_complete and app.history.log_index_being_built())

        read_then(self, app.history, read, lambda got, err: self._arrived(got, err, append=token is not None),
                  group="log-search", exclusive=True, name=f"search logs {query[:40]}")

    def _arrived(self, got: Found | None, error: BaseException | None, append: bool) -> None:
        self.searching = False
        self.searches += 1
        if got is not None and got.query != self.query_text:
            return
        if error is not None or got is None:
            text = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "no answer"
            self.error = visible(text)
            if not append:
                self.hits, self.next_token = [], None
                self.option_list.clear_options()
            self._status()
            return
        self.error = None
        page = got.page
        self.complete, self.pending, self.building = page.index_complete, page.pending, got.building
        self.next_token = page.next_token
        first_new = len(self.hits)
        self.hits = (self.hits if append else []) + list(page.hits)
        self._fill(first_new if append else 0)
        self._status()

    @property
    def capped(self) -> bool:
        """More hits exist than the screen keeps."""
        return bool(self.next_token) and len(self.hits) >= MAX_HITS

    def _fill(self, start: int) -> None:
        """Options for hits[start:], a header line where the run changes; "more" at the end when there is more."""
        ol = self.option_list
        if start == 0:
            ol.clear_options()
        elif ol.option_count and ol.get_option_at_index(ol.option_count - 1).id == MORE:
            ol.remove_option(MORE)
        options: list[Option | None] = []
        prev = self.hits[start - 1] if start > 0 else None
        for i in range(start, len(self.hits)):
            hit = self.hits[i]
            if prev is None or prev.result_name != hit.result_name or prev.cluster != hit.cluster:
                options.append(Option(group_header(hit), disabled=True))
            if prev is None or prev.step_log_id != hit.step_log_id:
                options.append(Option(_step_of(hit), disabled=True))
            nxt = self.hits[i + 1] if i + 1 < len(self.hits) else None
            same_prev = prev is not None and prev.step_log_id == hit.step_log_id
            same_next = nxt is not None and nxt.step_log_id == hit.step_log_id
            options.append(Option(hit_prompt(hit, prev.line + len(prev.after) if same_prev and prev else 0,
                                             nxt.line if same_next and nxt else None), id=f"hit-{i}"))
            prev = hit
        if self.next_token and not self.capped:
            options.append(Option(Text("more hits… (enter or m)", style="italic dim"), id=MORE))
        ol.add_options([o for o in options if o is not None])
        if start == 0 and self.hits:
            ol.highlighted = next((k for k in range(ol.option_count) if not ol.get_option_at_index(k).disabled), None)

    def _status(self) -> None:
        app = self.results_app
        t = Text()
        if self.error:
            t.append(self.error, style="red")
        elif self.searching:
            t.append("searching…", style="italic dim")
        elif self.query_text:
            runs = len({(h.cluster, h.result_name) for h in self.hits})
            n = len(self.hits)
            t.append(f"{n}{'+' if self.next_token else ''} matching line{'s' if n != 1 else ''}", style="bold")
            t.append(f" in {runs} run{'s' if runs != 1 else ''}")
            if self.capped:
                t.append(f" · the first {n:,} kept: narrow the search (or logs --grep for all)", style="yellow")
            if not self.complete and self.building:
                t.append(f" · {self.pending:,} older step logs are being indexed, not searched yet", style="yellow")
            elif not self.complete:
                t.append(f" · {self.pending:,} older step logs are not indexed: run tekton-results-tui reindex-logs",
                         style="yellow")
        else:
            t.append("type to search every stored step log", style="dim")
        t.append(" · runs: ", style="dim")
        t.append(visible(app.filter.text) if app.filter.text.strip() else "all", style="italic")
        self.query_one("#logsearch-status", Static).update(t)

    # --- actions -------------------------------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id == MORE:
            self.action_more()
        elif event.option.id and event.option.id.startswith("hit-"):
            self.open_hit(self.hits[int(event.option.id[4:])])

    def action_open_hit(self) -> None:
        ol = self.option_list
        if ol.highlighted is None:
            return
        opt = ol.get_option_at_index(ol.highlighted)
        if opt.id == MORE:
            self.action_more()
        elif opt.id and opt.id.startswith("hit-"):
            self.open_hit(self.hits[int(opt.id[4:])])

    def action_more(self) -> None:
        if self.next_token and not self.searching and not self.capped:
            self.start(self.query_text, token=self.next_token)

    def action_switch_focus(self) -> None:
        if self.query_one(Input).has_focus:
            self.option_list.focus()
        else:
            self.query_one(Input).focus()

    def action_close(self) -> None:
        self.app.pop_screen()

    def open_hit(self, hit: LogHit) -> None:
        """Close the screen and show the hit's TaskRun in the Logs tab at the hit's line, match highlighted."""
        app = self.results_app
        history = app.history

        def read() -> tuple[ResultRow | None, RecordRow | None]:
            return (history.get_result(name=hit.result_name, cluster=hit.cluster),
                    history.get_record(uid=hit.run_uid, cluster=hit.cluster))

        def done(got: tuple[ResultRow | None, RecordRow | None] | None, error: BaseException | None) -> None:
            if error is not None or got is None or got[0] is None or got[1] is None:
                app.notify_plain(f"that run is no longer stored{': ' + str(error) if error else ''}", severity="warning")
                return
            result, taskrun = got
            a, b = hit.spans[0] if hit.spans else (0, 0)
            app.pop_screen()
            app.open_log_at(result, taskrun, hit.step, hit.line, hit.plain[a:b])

        read_then(self, history, read, done, group="log-search", exclusive=True, name="open hit")
