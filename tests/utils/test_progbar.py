"""Progbar: Keras 3's text, in place on a terminal, one line per bar elsewhere, ASCII fallback."""

from __future__ import annotations

import io
import re
import sys

import pytest

from numkeras.utils import progbar as progbar_module
from numkeras.utils.progbar import Progbar

BAR = "━"
THIN = "─"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Clock:
    """A settable stand-in for the progress bar's clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class TTY(io.StringIO):
    """A stream that says it is a terminal."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


class AsciiTTY(TTY):
    encoding = "ascii"


def encoded_stream(encoding: str) -> io.TextIOWrapper:
    """A non-terminal stream that fails on characters its encoding lacks."""
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")


def written(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode(stream.encoding)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progbar_module, "_now", fake)
    return fake


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No notebook or IDE detection, and colours allowed, whatever the machine running us."""
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def run_steps(bar: Progbar, clock: Clock, tick: float, losses: list[float]) -> None:
    """One update per loss, ``tick`` seconds apart (the clock starts where it is)."""
    for step, loss in enumerate(losses, start=1):
        clock.t += tick
        bar.update(step, [("loss", loss)])


def test_pipe_gets_only_the_final_line(clock, capsys):
    bar = Progbar(target=5)
    run_steps(bar, clock, 0.25, [0.9, 0.7, 0.5, 0.3, 0.2])
    out = capsys.readouterr().out
    # 1.25 s elapsed; 0.25 s per step; the final update shows the values given with it.
    assert out == "5/5 " + BAR * 20 + " 1s 250ms/step - loss: 0.2000\n"


def test_pipe_output_has_no_carriage_returns_or_ansi_codes(clock, capsys):
    for _ in range(3):  # Three "epochs".
        bar = Progbar(target=40)
        for step in range(1, 41):
            clock.t += 0.01
            bar.update(step, [("accuracy", 0.5), ("loss", 1.0)])
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    pattern = re.compile(
        r"^40/40 " + BAR * 20 + r" \d+s \d+(s|ms|us)/step - accuracy: 0\.5000 - loss: 1\.0000$"
    )
    assert all(pattern.match(line) for line in lines), lines


def test_stdout_is_looked_up_at_each_call(clock, monkeypatch):
    bar = Progbar(target=2)
    later = io.StringIO()
    monkeypatch.setattr(sys, "stdout", later)
    run_steps(bar, clock, 1.0, [1.0, 1.0])
    assert later.getvalue().startswith("2/2 ")


class CountingTTY(TTY):
    """A terminal that counts how often it is asked whether it is one."""

    asked = 0

    def isatty(self) -> bool:
        CountingTTY.asked += 1
        return True


def test_a_stream_is_asked_once_whether_it_is_a_terminal(clock, monkeypatch):
    """Not on every step (a system call each time); a new sys.stdout is asked again."""
    first, second = CountingTTY(), io.StringIO()
    monkeypatch.setattr(CountingTTY, "asked", 0)
    monkeypatch.setattr(sys, "stdout", first)
    bar = Progbar(target=60)
    run_steps(bar, clock, 1.0, [1.0] * 30)
    assert CountingTTY.asked == 1
    assert "\r" in first.getvalue()  # redrawn in place
    monkeypatch.setattr(sys, "stdout", second)
    run_steps_from(bar, clock, 31, [1.0] * 30)
    assert CountingTTY.asked == 1
    assert second.getvalue().startswith("60/60 ") and "\r" not in second.getvalue()


def run_steps_from(bar: Progbar, clock: Clock, first_step: int, losses: list[float]) -> None:
    for step, loss in enumerate(losses, start=first_step):
        clock.t += 1.0
        bar.update(step, [("loss", loss)])


def test_terminal_redraws_in_place_with_colours(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=10, interval=0)
    run_steps(bar, clock, 1.0, [1.0, 3.0])
    frames = stream.getvalue().split("\r")
    assert len(frames) == 3 and frames[0] == ""  # Each frame starts with a carriage return.
    first = frames[1]
    first_width = len(ANSI.sub("", first.rstrip("\b")))
    assert first.endswith("\b" * first_width)  # The second frame erases the first.
    second = frames[2]
    # Step 2 of 10: 4 of 20 cells done (green), ETA 8 x 1 s, loss averaged over the steps.
    assert "\x1b[32m" + BAR * 4 + "\x1b[0m" in second
    assert "\x1b[37m" + BAR * 16 + "\x1b[0m" in second
    assert ANSI.sub("", second) == " 2/10 " + BAR * 20 + " 8s 1s/step - loss: 2.0000"


def test_terminal_final_frame_shows_elapsed_time_and_ends_the_line(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=3, interval=0)
    run_steps(bar, clock, 2.0, [3.0, 2.0, 1.0])
    last = stream.getvalue().split("\r")[-1]
    assert last.endswith("\n")
    assert ANSI.sub("", last) == "3/3 " + BAR * 20 + " 6s 2s/step - loss: 1.0000\n"


def test_terminal_pads_a_shorter_frame(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=10, interval=0, stateful_metrics=["loss"])
    clock.t = 1.0
    bar.update(1, [("loss", 12345.0)])
    clock.t = 2.0
    bar.update(2, [("loss", 1.0)])
    last = stream.getvalue().split("\r")[-1]
    assert last.endswith("loss: 1.0000" + " " * 4)


def test_terminal_throttles_redraws_to_the_interval(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=6, interval=10.0)
    clock.t = 100.0  # Far from the start: the first update is always drawn.
    bar.update(1)
    for step in range(2, 7):
        clock.t += 1.0
        bar.update(step)
    # The first frame, then nothing for 10 s, then the final frame.
    assert stream.getvalue().count("\r") == 2


@pytest.mark.parametrize(
    ("target", "expected_eta"),
    [(10, "8s"), (127, "2:05"), (3727, "1:02:05")],
)
def test_eta_formats(clock, monkeypatch, target, expected_eta):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=target, interval=0)
    run_steps(bar, clock, 1.0, [0.5, 0.5])  # 1 s per step, 2 done.
    frame = ANSI.sub("", stream.getvalue().split("\r")[-1])
    assert f" {expected_eta} 1s/step" in frame


@pytest.mark.parametrize(
    ("tick", "expected"),
    [(2.0, "2s/step"), (0.004, "4ms/step"), (0.00005, "50us/step")],
)
def test_time_per_step_units(clock, capsys, tick, expected):
    bar = Progbar(target=4)
    run_steps(bar, clock, tick, [1.0] * 4)
    assert f" {expected} - loss" in capsys.readouterr().out


def test_time_per_step_leaves_out_the_first_step(clock, capsys):
    bar = Progbar(target=3)
    clock.t = 5.0  # A slow first step...
    bar.update(1)
    clock.t = 6.0
    bar.update(2)
    clock.t = 7.0  # ...then 1 s per step.
    bar.update(3)
    assert capsys.readouterr().out.rstrip("\n").endswith(" 7s 1s/step")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.25, "0.2500"), (-0.5, "-0.5000"), (1234.5, "1234.5000"), (0.0001, "1.0000e-04")],
)
def test_value_formats(clock, capsys, value, text):
    bar = Progbar(target=1)
    clock.t = 1.0
    bar.update(1, [("m", value)])
    assert capsys.readouterr().out.endswith(f" - m: {text}\n")


def test_values_keep_the_order_they_were_first_given(clock, capsys):
    bar = Progbar(target=2)
    clock.t = 1.0
    bar.update(1, [("zeta", 1.0), ("alpha", 2.0)])
    clock.t = 2.0
    bar.update(2, [("alpha", 2.0), ("zeta", 1.0), ("beta", 3.0)])
    assert capsys.readouterr().out.endswith("- zeta: 1.0000 - alpha: 2.0000 - beta: 3.0000\n")


def test_values_are_averaged_weighted_by_steps_unless_stateful(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=10, interval=0, stateful_metrics=["lr"])
    clock.t = 1.0
    bar.update(1, [("loss", 4.0), ("lr", 0.5)])
    clock.t = 2.0
    bar.update(4, [("loss", 1.0), ("lr", 0.25)])  # Three steps at 1.0 after one at 4.0.
    frame = ANSI.sub("", stream.getvalue().split("\r")[-1])
    assert frame.endswith("- loss: 1.7500 - lr: 0.2500")


def test_add_advances_by_n(clock, capsys):
    bar = Progbar(target=4)
    clock.t = 1.0
    bar.add(2)
    clock.t = 2.0
    bar.add(2, [("loss", 0.5)])
    assert capsys.readouterr().out.startswith("4/4 ")


def test_partial_final_bar_on_a_pipe_shows_what_is_left(clock, capsys):
    bar = Progbar(target=10)
    clock.t = 1.0
    bar.update(3, finalize=True)
    assert capsys.readouterr().out.startswith(" 3/10 " + BAR * 6 + THIN * 14 + " 1s")


def test_unknown_target(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=None, interval=0)
    clock.t = 3.0
    bar.update(3)
    assert ANSI.sub("", stream.getvalue()) == "\r      3/Unknown 3s 1s/step"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_ascii_fallback_on_a_pipe(clock, monkeypatch, encoding):
    stream = encoded_stream(encoding)
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=5)
    run_steps(bar, clock, 0.25, [0.5] * 5)
    out = written(stream)
    assert out.isascii()
    assert out == "5/5 " + "=" * 20 + " 1s 250ms/step - loss: 0.5000\n"


def test_ascii_fallback_on_a_terminal(clock, monkeypatch):
    stream = AsciiTTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=4, interval=0)
    run_steps(bar, clock, 1.0, [1.0, 1.0])
    out = stream.getvalue()
    assert out.isascii()
    assert "=" * 10 + "\x1b[0m\x1b[37m" + "." * 10 in out


def test_no_color_keeps_in_place_updates_without_ansi(clock, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=2, interval=0)
    run_steps(bar, clock, 1.0, [1.0, 1.0])
    out = stream.getvalue()
    assert "\r" in out and "\x1b" not in out


def test_verbose_2_prints_one_line_when_finalized(clock, capsys):
    bar = Progbar(target=4, verbose=2)
    run_steps(bar, clock, 0.25, [0.7, 0.6, 0.5, 0.4])
    assert capsys.readouterr().out == "4/4 - 1s - 250ms/step - loss: 0.4000\n"


def test_verbose_2_same_on_a_terminal(clock, monkeypatch):
    stream = TTY()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(target=4, verbose=2)
    run_steps(bar, clock, 0.25, [0.7, 0.6, 0.5, 0.4])
    assert stream.getvalue() == "4/4 - 1s - 250ms/step - loss: 0.4000\n"


def test_verbose_0_is_silent(clock, capsys):
    bar = Progbar(target=3, verbose=0)
    run_steps(bar, clock, 1.0, [1.0, 1.0, 1.0])
    assert capsys.readouterr().out == ""
