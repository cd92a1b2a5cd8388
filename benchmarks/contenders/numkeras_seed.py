"""The seed's own program on numkeras (or on Keras 3 with ``--framework keras``, if installed).

Exactly the seed: ``Sequential([Dense(512, relu), Dense(10, softmax)])``, ``compile(optimizer=
"rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])``, ``fit(x, y_onehot,
epochs=5, batch_size=128)`` and ``evaluate`` (at its default batch size) for the test figures.
Epochs are timed by a ``callbacks.Callback`` (``on_epoch_begin``/``on_epoch_end``); evaluate and
predict throughput are measured with ``batch_size=128`` on the 10,000 test images, like every
other contender. ``import_s`` times ``import numkeras`` (NumPy included); ``import_numpy_s`` is
``import numpy`` alone, timed in fresh interpreters.

Run: ``python benchmarks/contenders/numkeras_seed.py [--framework keras]``.
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType
from typing import Any

import _common


def submodule(package: ModuleType, name: str) -> Any:
    """``from package import name``, for a name that may be an attribute or a subpackage."""
    found = getattr(package, name, None)
    return found if found is not None else importlib.import_module(f"{package.__name__}.{name}")


def main() -> None:
    parser = _common.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("numkeras", "keras"), default="numkeras")
    args = parser.parse_args()
    name = args.framework
    try:
        framework, import_s = _common.timed_import(name)
    except ImportError as exc:
        if name == "numkeras":
            raise  # numkeras is what is being measured: a failure, not a skip
        _common.skip(name, f"{name} is not importable: {exc}")
        return
    models, layers = submodule(framework, "models"), submodule(framework, "layers")
    callbacks, utils = submodule(framework, "callbacks"), submodule(framework, "utils")

    class EpochTimer(callbacks.Callback):
        """Records perf_counter() at each epoch's begin and end, and the epoch's logs."""

        def __init__(self) -> None:
            super().__init__()
            self.begins: list[float] = []
            self.ends: list[float] = []
            self.logs: list[dict[str, Any]] = []

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.begins.append(time.perf_counter())

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.ends.append(time.perf_counter())
            self.logs.append(dict(logs or {}))

    x, labels, xt, labels_t = _common.load_fashion_mnist(args.limit)
    y_onehot = utils.to_categorical(labels, 10)
    yt_onehot = utils.to_categorical(labels_t, 10)
    if hasattr(utils, "set_random_seed"):
        utils.set_random_seed(args.seed)

    net = models.Sequential()
    net.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    fit_start = time.perf_counter()
    net.fit(x, y_onehot, epochs=args.epochs, batch_size=128, verbose=0, callbacks=[timer])
    fit_s = time.perf_counter() - fit_start
    test_loss, test_acc = net.evaluate(xt, yt_onehot, verbose=0)

    batch, n_test = _common.BATCH_SIZE, xt.shape[0]
    evaluate_ips = _common.images_per_second(
        lambda: net.evaluate(xt, yt_onehot, batch_size=batch, verbose=0), n_test, args.repeats
    )
    predict_ips = _common.images_per_second(
        lambda: net.predict(xt, batch_size=batch, verbose=0), n_test, args.repeats
    )
    rss = _common.peak_rss_mib()
    epoch_times = [end - begin for begin, end in zip(timer.begins, timer.ends, strict=True)]
    import numpy as np

    _common.emit(
        {
            "name": name,
            "epoch_times": epoch_times,
            "train_loss": [float(logs["loss"]) for logs in timer.logs if "loss" in logs],
            "train_accuracy": [
                float(logs["accuracy"]) for logs in timer.logs if "accuracy" in logs
            ],
            "test_accuracy": float(test_acc),
            "test_loss": float(test_loss),
            "evaluate_images_per_s": evaluate_ips,
            "predict_images_per_s": predict_ips,
            "peak_rss_mib": rss,
            "import_s": import_s,
            "import_what": f"import {name}",
            "import_numpy_s": _common.fresh_import_seconds("import numpy", repeats=3),
            "fit_s": fit_s,
            "fit_outside_epochs_s": fit_s - sum(epoch_times),
            "n_train": int(x.shape[0]),
            "batch_size": batch,
            "versions": {name: getattr(framework, "__version__", "?"), "numpy": np.__version__},
            "threadpools": _common.threadpools(),
        }
    )


if __name__ == "__main__":
    main()
