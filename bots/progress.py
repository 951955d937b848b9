"""Progress of slow work in the terminal: a line saying what is happening, and a bar.

An instance is a progress listener (`what, done, total`) for the recommender or the index
build. It prints each new step's line once (so a piped or logged session says what it is
waiting for too) and, on a terminal, keeps a transient bar under it until `close()`.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class ProgressLine:
    """Render progress steps on one console; safe to call from the thread doing the work.

    Without a console, the first step makes one on stderr: a command with nothing slow to
    say never imports rich (`next --json` with the index built).
    """

    def __init__(self, console: Console | None = None) -> None:
        self._console = console
        self._lock = threading.Lock()
        self._said: set[str] = set()
        self._bar: Any = None  # rich.progress.Progress, imported only when there is a bar
        self._task: Any = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def __call__(self, what: str, done: int, total: int) -> None:
        from rich.markup import escape

        with self._lock:
            if what not in self._said:
                self._said.add(what)
                self.console.print(f"{escape(what)}...", style="dim", highlight=False)
            if not self.console.is_terminal:
                return
            if self._bar is None:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

                self._bar = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=self.console, transient=True,
                )  # fmt: skip
                self._task = self._bar.add_task(what, total=None)
                self._bar.start()
            self._bar.update(self._task, description=what, completed=done, total=total or None)

    def close(self) -> None:
        """Remove the bar (the lines stay); the next step starts a new one."""
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
            self._said.clear()

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
