"""Saving and loading models: architecture, weights and optimizer state in one file.

A ``.keras`` file written by numkeras is a zip archive, like Keras's, holding
``config.json`` (the architecture and compile settings), ``model.weights.npz`` (every weight)
and ``optimizer.npz`` (the optimizer's slots and step counter, so training resumes where it
stopped). Keras stores weights as HDF5; numkeras uses NumPy's ``.npz`` to stay NumPy-only, so
the files are not interchangeable with Keras's. Every write goes to a temporary file in the
same directory that is renamed over the target only when complete: a crash mid-save never
destroys the previous file.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

import numkeras
from numkeras import losses as losses_module
from numkeras import optimizers
from numkeras.utils.file_utils import atomic_write

CONFIG = "config.json"
WEIGHTS = "model.weights.npz"
OPTIMIZER = "optimizer.npz"
METADATA = "metadata.json"


class ModelFileError(ValueError):
    """A file that should hold a numkeras model or weights does not (or is damaged)."""


def _write_file(filepath: str | os.PathLike, write: Callable[[IO[bytes]], None],
                overwrite: bool) -> None:
    path = Path(filepath)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists and overwrite=False")
    with atomic_write(path) as handle:
        write(handle)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _weight_arrays(model: Any) -> dict[str, np.ndarray]:
    # Keys keep the order (zero-padded index) and say which weight each array is.
    return {f"{i:04d}:{w.name}": w.numpy() for i, w in enumerate(model.weights)}


def _check_suffix(filepath: str | os.PathLike, suffix: str, what: str) -> None:
    if not str(filepath).endswith(suffix):
        raise ValueError(f"{what}: the filename must end in {suffix!r}, got {str(filepath)!r}")


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile settings, optimizer state) to a
    ``.keras`` file."""
    _check_suffix(filepath, ".keras", "save")
    if not model.built:
        raise ValueError(f"save: model {model.name!r} is not built yet; call it on data or "
                         f"give it an input shape first")
    config = {
        "module": "numkeras.models",
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": model.get_compile_config(),
        "build_input_shape": list(model.input_shape[1:]),
    }
    optimizer_state = {}
    if model.optimizer is not None and model.optimizer.built:
        optimizer_state = {f"{i:04d}": np.asarray(v.numpy())
                           for i, v in enumerate(model.optimizer.variables)}
    metadata = {"numkeras_version": numkeras.__version__, "format": "numkeras-keras-zip/1"}

    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA, json.dumps(metadata))
            archive.writestr(CONFIG, json.dumps(config))
            archive.writestr(WEIGHTS, _npz_bytes(_weight_arrays(model)))
            archive.writestr(OPTIMIZER, _npz_bytes(optimizer_state))

    _write_file(filepath, write, overwrite)


def _open_archive(filepath: str | os.PathLike) -> tuple[dict, np.lib.npyio.NpzFile, Any]:
    path = Path(filepath)
    if not path.is_file():
        raise FileNotFoundError(f"load_model: no such file: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = {CONFIG, WEIGHTS} - names
            if missing:
                raise ModelFileError(
                    f"{path} is not a numkeras model file: it lacks {sorted(missing)}"
                )
            config = json.loads(archive.read(CONFIG))
            weights = np.load(io.BytesIO(archive.read(WEIGHTS)))
            optimizer_state = (np.load(io.BytesIO(archive.read(OPTIMIZER)))
                               if OPTIMIZER in names else None)
    except zipfile.BadZipFile as error:
        raise ModelFileError(f"{path} is not a numkeras model file (.keras zip archive), or it "
                             f"is truncated or damaged: {error}") from error
    except (json.JSONDecodeError, ValueError, OSError, EOFError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{path} is damaged: {error}") from error
    return config, weights, optimizer_state


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Rebuild a model saved with ``model.save``: same layers, weights and, if ``compile``,
    the same optimizer state, so ``fit`` continues where it stopped."""
    from numkeras.models.sequential import Sequential

    config, weights, optimizer_state = _open_archive(filepath)
    classes = {"Sequential": Sequential, **(custom_objects or {})}
    cls = classes.get(config.get("class_name"))
    if cls is None:
        raise ModelFileError(f"{filepath}: unknown model class {config.get('class_name')!r}")
    model = cls.from_config(config["config"], custom_objects=custom_objects)
    if not model.built:
        model.build((None,) + tuple(config["build_input_shape"]))
    _assign_weights(model, [weights[k] for k in sorted(weights.files)], filepath)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        loss = compile_config["loss"]
        if isinstance(loss, dict):
            loss = losses_module.deserialize(loss, custom_objects=custom_objects)
        model.compile(
            optimizer=optimizers.deserialize(compile_config["optimizer"]),
            loss=loss, metrics=compile_config.get("metrics"),
            loss_weights=compile_config.get("loss_weights"),
        )
        if optimizer_state is not None and optimizer_state.files:
            optimizer = model.optimizer
            optimizer.build(model.trainable_weights)
            values = [optimizer_state[k] for k in sorted(optimizer_state.files)]
            if len(values) != len(optimizer.variables):
                # Keras's rule: the model itself is fine (its trainable weights changed after
                # the optimizer was built, say), so warn and keep a fresh optimizer.
                warnings.warn(
                    f"{filepath}: skipping variable loading for optimizer "
                    f"{optimizer.name!r}, because it has {len(optimizer.variables)} variables "
                    f"whereas the saved optimizer has {len(values)} variables; training will "
                    f"continue with a fresh optimizer",
                    stacklevel=2,
                )
            else:
                for variable, value in zip(optimizer.variables, values):
                    variable.assign(value)
    return model


def _assign_weights(model: Any, arrays: list[np.ndarray], filepath: Any) -> None:
    """``model.set_weights``, its count and shape errors reported against the file."""
    try:
        model.set_weights(arrays)
    except ValueError as error:
        raise ModelFileError(f"{filepath} does not fit model {model.name!r}: {error}") from error


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write only the weights, to a ``.weights.npz`` file."""
    _check_suffix(filepath, ".weights.npz", "save_weights")
    payload = _npz_bytes(_weight_arrays(model))
    _write_file(filepath, lambda handle: handle.write(payload), overwrite)


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights written by ``save_weights`` (or the weights inside a ``.keras`` file)."""
    path = Path(filepath)
    if str(path).endswith(".keras"):
        _, weights, _ = _open_archive(path)
    else:
        _check_suffix(path, ".weights.npz", "load_weights")
        if not path.is_file():
            raise FileNotFoundError(f"load_weights: no such file: {path}")
        try:
            weights = np.load(path)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ModelFileError(f"{path} is not a weights file or is damaged: {error}") from error
    try:
        arrays = [weights[k] for k in sorted(weights.files)]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{path} is damaged: {error}") from error
    _assign_weights(model, arrays, path)
