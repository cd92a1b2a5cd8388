"""Saving and loading: ``.keras`` archives, ``.weights.npz`` files, damaged files, atomic
writes and file permissions."""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np
import pytest

import numkeras
from numkeras import layers, models, optimizers
from numkeras.models import saving
from numkeras.models.saving import ModelFileError
from numkeras.utils import set_random_seed, to_categorical

FEATURES, CLASSES = 6, 3
_rng = np.random.default_rng(99)
X = _rng.normal(size=(48, FEATURES)).astype(np.float32)
Y = to_categorical(_rng.integers(0, CLASSES, size=48), CLASSES).astype(np.float32)


def trained_model(optimizer="rmsprop") -> models.Sequential:
    set_random_seed(1)
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(8, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    return model


def assert_same_weights(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# --- .keras round trip ---------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    model = trained_model()
    path = tmp_path / "m.keras"
    model.save(path)
    assert zipfile.is_zipfile(path)
    loaded = models.load_model(path)
    assert isinstance(loaded, models.Sequential)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert_same_weights(loaded.get_weights(), model.get_weights())
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.get_compile_config() == model.get_compile_config()
    assert loaded.get_config() == model.get_config()
    assert type(loaded.optimizer) is optimizers.RMSprop
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)


def test_optimizer_state_is_restored(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    assert int(model.optimizer.iterations.numpy()) == 6  # 2 epochs x 3 batches
    velocities = [v for v in model.optimizer.variables if v.name.endswith("velocity")]
    loaded_velocities = [v for v in loaded.optimizer.variables if v.name.endswith("velocity")]
    assert len(velocities) == 4
    assert [v.name for v in loaded_velocities] == [v.name for v in velocities]
    assert any(np.any(v.numpy() != 0) for v in velocities)
    assert_same_weights([v.numpy() for v in loaded_velocities], [v.numpy() for v in velocities])


def test_training_continues_exactly_after_load(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    set_random_seed(5)  # the same dropout masks in both runs
    model.fit(X, Y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    set_random_seed(5)
    loaded.fit(X, Y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert_same_weights(loaded.get_weights(), model.get_weights())
    assert int(loaded.optimizer.iterations.numpy()) == 9


def test_layer_frozen_after_training_still_loads(tmp_path):
    # The optimizer was built for 4 weights; after freezing, the loaded model trains 2. As in
    # Keras, the model loads with a warning and a fresh optimizer instead of failing.
    model = trained_model()
    model.layers[0].trainable = False
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="skipping variable loading for optimizer"):
        loaded = models.load_model(tmp_path / "m.keras")
    assert_same_weights(loaded.get_weights(), model.get_weights())
    assert not loaded.layers[0].trainable
    assert int(loaded.optimizer.iterations.numpy()) == 0
    loaded.fit(X, Y, epochs=1, verbose=0)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_save_before_training_and_without_compile(tmp_path):
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(CLASSES)])
    model.save(tmp_path / "plain.keras")
    loaded = models.load_model(tmp_path / "plain.keras")
    assert not loaded.compiled
    assert_same_weights(loaded.get_weights(), model.get_weights())
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    model.save(tmp_path / "compiled.keras")
    loaded = models.load_model(tmp_path / "compiled.keras")
    assert type(loaded.optimizer) is optimizers.Adam
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate), 0.01, rtol=1e-6)
    assert not models.load_model(tmp_path / "compiled.keras", compile=False).compiled


def test_load_weights_from_keras_file(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.keras")
    fresh = models.Sequential([layers.Input((FEATURES,)), layers.Dense(8, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(CLASSES, activation="softmax")])
    fresh.load_weights(tmp_path / "m.keras")
    assert_same_weights(fresh.get_weights(), model.get_weights())


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        models.Sequential([layers.Dense(2)]).save(tmp_path / "m.keras")


def test_overwrite_false(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.keras", overwrite=False)


# --- weights files -------------------------------------------------------------------------
def test_save_weights_load_weights_round_trip(tmp_path):
    model = trained_model()
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    other = models.Sequential([layers.Input((FEATURES,)), layers.Dense(8, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(CLASSES, activation="softmax")])
    assert not np.array_equal(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(path)
    assert_same_weights(other.get_weights(), model.get_weights())
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


def test_wrong_suffixes(tmp_path):
    model = trained_model()
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        model.load_weights(tmp_path / "w.h5")
    assert list(tmp_path.iterdir()) == []


def test_weights_of_the_wrong_shapes(tmp_path):
    model = trained_model()
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    wider = models.Sequential([layers.Input((FEATURES,)), layers.Dense(9),
                               layers.Dense(CLASSES)])
    before = wider.get_weights()
    with pytest.raises(ModelFileError) as info:
        wider.load_weights(path)
    message = str(info.value)
    assert str(path) in message and "(6, 9)" in message and "(6, 8)" in message
    assert_same_weights(wider.get_weights(), before)  # nothing half-loaded
    deeper = models.Sequential([layers.Input((FEATURES,)), layers.Dense(8), layers.Dense(8),
                                layers.Dense(CLASSES)])
    with pytest.raises(ModelFileError, match="6 weight arrays"):
        deeper.load_weights(path)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        models.load_model(tmp_path / "nope.keras")
    with pytest.raises(FileNotFoundError):
        trained_model().load_weights(tmp_path / "nope.weights.npz")


# --- damaged files -------------------------------------------------------------------------
def test_load_of_a_non_zip_file(tmp_path):
    path = tmp_path / "text.keras"
    path.write_text("this is not a model")
    with pytest.raises(ModelFileError) as info:
        models.load_model(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_load_of_a_truncated_file(tmp_path):
    trained_model().save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    path = tmp_path / "half.keras"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as info:
        models.load_model(path)
    assert str(path) in str(info.value) and "truncated" in str(info.value)


def test_load_of_a_zip_without_config(tmp_path):
    path = tmp_path / "empty.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("something.txt", "hello")
    with pytest.raises(ModelFileError) as info:
        models.load_model(path)
    assert str(path) in str(info.value) and "config.json" in str(info.value)


def test_load_of_damaged_config_and_weights(tmp_path):
    good = tmp_path / "m.keras"
    trained_model().save(good)
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    for damaged_entry, payload in ((saving.CONFIG, b"{not json"),
                                   (saving.WEIGHTS, b"garbage")):
        path = tmp_path / f"bad_{damaged_entry}.keras"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, payload if name == damaged_entry else data)
        with pytest.raises(ModelFileError, match=str(path)):
            models.load_model(path)


def test_load_weights_of_a_damaged_weights_file(tmp_path):
    path = tmp_path / "w.weights.npz"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelFileError, match=str(path)):
        trained_model().load_weights(path)


# --- atomic writes and permissions -----------------------------------------------------------
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_crash_mid_save_keeps_the_previous_file(tmp_path, monkeypatch, error):
    model = trained_model()
    path = tmp_path / "m.keras"
    model.save(path)
    previous = path.read_bytes()
    written = []
    original = zipfile.ZipFile.writestr

    def crash_on_weights(self, name, data, *args, **kwargs):
        if name == saving.WEIGHTS:
            raise error
        written.append(name)
        return original(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash_on_weights)
    model.fit(X, Y, epochs=1, verbose=0)  # new weights, which the crash must not half-write
    with pytest.raises(type(error)):
        model.save(path)
    assert written == [saving.METADATA, saving.CONFIG]  # some bytes were written first
    assert path.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temporary file left
    monkeypatch.undo()
    assert models.load_model(path).get_config() == model.get_config()


def test_a_crash_mid_save_weights_leaves_no_file(tmp_path, monkeypatch):
    model = trained_model()
    monkeypatch.setattr(saving, "_npz_bytes", lambda arrays: (_ for _ in ()).throw(OSError()))
    with pytest.raises(OSError):
        model.save_weights(tmp_path / "w.weights.npz")
    assert list(tmp_path.iterdir()) == []


def test_saved_files_respect_the_umask(tmp_path, umask_022):
    model = trained_model()
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.weights.npz")
    for name in ("m.keras", "w.weights.npz"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o644, oct(mode)  # not mkstemp's 0600


def test_save_creates_missing_directories(tmp_path):
    path = tmp_path / "a" / "b" / "m.keras"
    trained_model().save(path)
    assert path.is_file()
    assert numkeras.models.load_model(path).built
