"""End to end: the book's from-scratch program (examples/from_scratch.py) learns on real digits.

The book trains for 10 epochs of 60,000 digits (4,690 SGD steps at learning rate 1e-3). The
sample has 5,000 digits, 40 steps an epoch, and this naive model learns slowly: measured on
the sample (10,000 test digits) with seeds 0-5, test accuracy was 0.10-0.15 after 10 epochs,
0.18-0.21 after 30 and 0.23-0.26 after 40. So this runs 40 epochs (1,600 steps, ~10 s)
and asks for 0.15, well below the worst seed and far above chance (0.10).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import numkeras.ops
import numkeras.random
from numkeras.datasets import mnist

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "from_scratch.py"
EPOCHS = 40
MIN_ACCURACY = 0.15


def _load_example():
    spec = importlib.util.spec_from_file_location("from_scratch", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shuffled_copy(sample_dir: Path, target: Path) -> Path:
    """The sample as a Keras-layout ``.npz``, its training digits in a random order.

    The sample lists its training digits class by class (500 zeros, then 500 ones, ...);
    MNIST's own training file is in no such order, and the book's ``BatchGenerator`` walks
    the data as given, so the sample is shuffled once, as the book's data already is.
    """
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=sample_dir)
    order = np.random.default_rng(0).permutation(len(x_train))
    np.savez(target, x_train=x_train[order], y_train=y_train[order], x_test=x_test, y_test=y_test)
    return target


@pytest.fixture(scope="module")
def example():
    return _load_example()


def test_book_program_learns_on_the_mnist_sample(
    example, mnist_sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert example.learning_rate == 1e-3  # the book's
    data = _shuffled_copy(mnist_sample_dir, tmp_path / "mnist.npz")
    numkeras.random.set_seed(0)
    accuracy = example.main(data_path=str(data), epochs=EPOCHS)
    out = capsys.readouterr().out
    assert accuracy > MIN_ACCURACY, f"test accuracy {accuracy:.3f} after {EPOCHS} epochs"
    # The book's printout: one header per epoch, the loss of each epoch's first batch.
    assert f"Epoch {EPOCHS - 1}" in out
    losses = [float(v) for v in re.findall(r"loss at batch 0: ([\d.]+)", out)]
    assert len(losses) == EPOCHS
    assert losses[-1] < losses[0] - 0.5, losses
    assert re.search(r"accuracy: 0\.\d\d\n", out)


def test_naive_dense_as_in_the_book(example) -> None:
    numkeras.random.set_seed(1)
    layer = example.NaiveDense(input_size=6, output_size=4, activation=numkeras.ops.relu)
    w, b = layer.weights
    assert isinstance(w, numkeras.Variable) and w.shape == (6, 4) and b.shape == (4,)
    assert w.numpy().min() >= 0 and w.numpy().max() < 0.1
    np.testing.assert_array_equal(b.numpy(), np.zeros(4))
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6)
    np.testing.assert_allclose(np.asarray(layer(x)), np.maximum(x @ w.numpy(), 0), rtol=1e-6)


def test_one_training_step_moves_weights_against_the_gradient(example) -> None:
    numkeras.random.set_seed(2)
    model = example.NaiveSequential([
        example.NaiveDense(input_size=5, output_size=3, activation=numkeras.ops.softmax),
    ])
    x = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    y = np.array([0, 2, 1, 2])
    w0, b0 = (v.numpy() for v in model.weights)
    loss = example.one_training_step(model, x, y)
    # Hand-derived: d(mean cross-entropy)/d(logits) = (softmax - one_hot) / batch.
    logits = x @ w0 + b0
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(float(loss), -np.mean(np.log(p[np.arange(4), y])), rtol=1e-5)
    d_logits = (p - np.eye(3)[y]) / 4
    np.testing.assert_allclose(model.weights[0].numpy(), w0 - 1e-3 * x.T @ d_logits, rtol=1e-5)
    np.testing.assert_allclose(model.weights[1].numpy(), b0 - 1e-3 * d_logits.sum(0), rtol=1e-5)


def test_batch_generator_walks_the_data_in_order(example) -> None:
    images, labels = np.arange(10).reshape(5, 2), np.arange(5)
    gen = example.BatchGenerator(images, labels, batch_size=2)
    assert gen.num_batches == 3
    batches = [gen.next() for _ in range(gen.num_batches)]
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
