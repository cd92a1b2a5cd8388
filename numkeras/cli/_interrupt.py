"""Ctrl-C during ``train``: the first stops after the current batch, a second quits at once.

``GracefulInterrupt`` replaces the SIGINT handler while training runs: the first signal only
sets ``requested`` (and says what will happen); ``StopOnInterrupt``, a callback, then sets
``model.stop_training`` at the end of the batch, so ``fit`` returns normally and the model
can be saved. A second signal raises ``KeyboardInterrupt`` straight away.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from numkeras.callbacks import Callback


class GracefulInterrupt:
    """Context manager installing the two-stage SIGINT handler (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:  # e.g. started in the background by a shell
                self._previous = signal.signal(signal.SIGINT, self.handle)
                self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def handle(self, signum: int = signal.SIGINT, frame: object = None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        sys.stderr.write(
            "\nnumkeras: Ctrl-C: stopping after the current batch and saving the model "
            "(press Ctrl-C again to quit at once, without saving)\n"
        )
        sys.stderr.flush()


class StopOnInterrupt(Callback):
    """Ends ``fit`` after the batch during which Ctrl-C was pressed; records where."""

    def __init__(self, interrupt: GracefulInterrupt) -> None:
        super().__init__()
        self.interrupt = interrupt
        self.epoch = 0
        self.stopped_at: tuple[int, int] | None = None  # (epoch, batch), 1-based

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch
        if self.interrupt.requested and self.stopped_at is None:
            self.stopped_at = (epoch + 1, 0)
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.interrupt.requested and self.stopped_at is None:
            self.stopped_at = (self.epoch + 1, batch + 1)
            self.model.stop_training = True
