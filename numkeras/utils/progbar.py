"""Keras 3's progress bar: ``469/469 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - loss: 0.2592``.

Where the output goes decides how it is drawn. Output is written to ``sys.stdout`` as it
is at the time of each call, and flushed.

* Interactive display (stdout is a terminal, or Jupyter / PyCharm): the bar is redrawn in
  place with ``\\b`` and ``\\r``, with Keras's ANSI colours (none when ``NO_COLOR`` is set).
* Anything else (a log file, a pipe, CI): only the final update of each bar is written, as
  one plain line with no carriage returns and no ANSI codes. Keras instead writes every
  update on a new line; one line per epoch keeps logs short and easy to grep.
* A stream whose encoding cannot encode "━" (``PYTHONIOENCODING=ascii``, a latin-1
  terminal) gets an ASCII bar, ``=`` for done and ``.`` for still to do.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# The clock, looked up at each call so that tests can substitute their own.
_now = time.time

_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"
_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")

# (done, to do) characters. Without colours Keras's single "━" would not show progress,
# so the plain style draws what is still to do with a thin line.
_COLOUR_BAR = ("━", "━")
_PLAIN_BAR = ("━", "─")
_ASCII_BAR = ("=", ".")


def _is_interactive(stream: Any) -> bool:
    """Whether ``stream`` can redraw a line in place (a terminal, Jupyter or PyCharm)."""
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except (OSError, ValueError):  # A closed or detached stream.
        return False
    return "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def _can_encode(stream: Any, text: str) -> bool:
    """Whether ``text`` survives ``stream``'s encoding (unknown encodings count as UTF-8)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _write(message: str) -> None:
    """Write ``message`` to the current ``sys.stdout`` and flush it."""
    stream = sys.stdout
    if stream is None:  # pythonw and similar: nowhere to write.
        return
    stream.write(message)
    stream.flush()


def _format_time(time_per_unit: float, unit_name: str) -> str:
    """`` 2s/step``, `` 2ms/step`` or `` 45us/step``, with its leading space."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    """``h:mm:ss`` above an hour, ``m:ss`` above a minute, else ``Ns``."""
    if eta > 3600:
        return f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


def _format_value(total: Any, count: int) -> str:
    """The average ``total / count`` as ``%.4f``, or ``%.4e`` when its size is 1e-3 or less."""
    if not isinstance(total, float):
        total = np.mean(total)
    avg = total / max(1, count)
    if abs(avg) > 1e-3:
        return f"{avg:.4f}"
    return f"{avg:.4e}"


class Progbar:
    """Displays a progress bar, as ``keras.utils.Progbar``.

    Args:
        target: Total number of steps expected, ``None`` if unknown.
        width: Progress bar width on screen, in characters.
        verbose: 0 (silent), 1 (progress bar) or 2 (one line when the bar is finalized).
        interval: Minimum time between two redraws on an interactive display, in seconds.
        stateful_metrics: Names of values shown as given; all others are averaged over
            the steps seen so far.
        unit_name: Display name for a step (``"step"``, ``"sample"``...).
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._seen_so_far = 0
        self._values: dict[str, list[Any]] = {}
        self._values_order: list[str] = []
        self._start = _now()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0
        self._stream: Any = None  # the stdout of the last update, and whether it is interactive
        self._dynamic = False

    def update(
        self,
        current: int,
        values: Sequence[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Move the bar to step ``current``.

        Args:
            current: Index of the current step (1-based: the number of steps done).
            values: ``(name, value_for_last_step)`` pairs. Names in ``stateful_metrics``
                are shown as given; others show their average over the steps so far.
            finalize: Whether this is the bar's last update; ``None`` means
                ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or (), finalize)
        now = _now()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1:
            stream = sys.stdout
            if stream is not self._stream:  # asked once per stream, not on every step
                self._stream, self._dynamic = stream, _is_interactive(stream)
            dynamic = self._dynamic
            if not finalize and (not dynamic or now - self._last_update < self.interval):
                return
            colour = dynamic and not os.environ.get("NO_COLOR")
            if not _can_encode(stream, "".join(_PLAIN_BAR)):
                chars = _ASCII_BAR
            else:
                chars = _COLOUR_BAR if colour else _PLAIN_BAR
            line = self._bar(current, chars, colour) + self._info(
                current, finalize, now, time_per_unit, colour
            )
            total_width = len(_ANSI_CODE.sub("", line))
            if dynamic:
                message = "\b" * self._prev_total_width + "\r" + line
                if self._prev_total_width > total_width:
                    message += " " * (self._prev_total_width - total_width)
            else:
                message = line
            if finalize:
                message += "\n"
            _write(message)
            self._prev_total_width = total_width
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            line = f"{self._count(current)} - {now - self._start:.0f}s -"
            line += _format_time(time_per_unit, self.unit_name) + self._metrics()
            _write(line + "\n")

        self._last_update = now

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advance the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def _record(self, current: int, values: Iterable[tuple[str, Any]], finalize: bool) -> None:
        """Fold the new values into the running sums (a final update replaces them)."""
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or finalize:
                self._values[name] = [value, 1]
                continue
            weight = max(current - self._seen_so_far, 1)
            if name in self._values:
                self._values[name][0] += value * weight
                self._values[name][1] += weight
            else:
                self._values[name] = [value * weight, weight]
        self._seen_so_far = current

    def _count(self, current: int) -> str:
        """``" 7/469"``: the step, padded to the width of the target."""
        digits = int(math.log10(self.target)) + 1
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current: int, chars: tuple[str, str], colour: bool) -> str:
        """The step count and the bar itself, or ``"      7/Unknown"`` with no target."""
        if self.target is None or self.target <= 0:
            return f"{current:7d}/Unknown"
        done = min(max(int(self.width * current / self.target), 0), self.width)
        done_part, todo_part = chars[0] * done, chars[1] * (self.width - done)
        count = self._count(current)
        if not colour:
            return f"{count} {done_part}{todo_part}"
        bar = f"{_BOLD}{count}{_RESET} "
        if done_part:
            bar += f"{_GREEN}{done_part}{_RESET}"
        if todo_part:
            bar += f"{_WHITE}{todo_part}{_RESET}"
        return bar

    def _info(
        self, current: int, finalize: bool, now: float, time_per_unit: float, colour: bool
    ) -> str:
        """The ETA while running (else the time elapsed), time per step and the values."""
        if self.target is not None and self.target > 0 and not finalize:
            clock = _format_eta(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {_BOLD}{clock}{_RESET}" if colour else f" {clock}"
        return info + _format_time(time_per_unit, self.unit_name) + self._metrics()

    def _metrics(self) -> str:
        """`` - name: value`` for each value, in the order the names were first seen."""
        return "".join(
            f" - {name}: {_format_value(*self._values[name])}" for name in self._values_order
        )

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the (often slow) first step once others are done."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step
