"""Chapter 2's "reimplementing our first example from scratch", on numkeras.

The book's program, written as in the book with only TensorFlow's names changed to
numkeras's: ``tf.Variable`` -> ``numkeras.Variable``, ``tf.random.uniform`` ->
``numkeras.random.uniform``, ``tf.zeros``/``tf.matmul``/``tf.nn.relu``/``tf.nn.softmax``/
``tf.reduce_mean`` -> ``numkeras.ops.zeros``/``matmul``/``relu``/``softmax``/``mean``,
``tf.GradientTape`` -> ``numkeras.GradientTape`` and
``tf.keras.losses.sparse_categorical_crossentropy`` ->
``numkeras.losses.sparse_categorical_crossentropy``. The data loading is wrapped in
``main`` so that it can run on any MNIST-shaped data (the reshapes use ``len(...)`` instead
of the literal 60000 and 10000).

    python examples/from_scratch.py              # MNIST (cache, Keras's cache, or download)
    python examples/from_scratch.py DIR_OR_NPZ   # a directory of IDX files, or an .npz

As in the book, ``BatchGenerator`` walks the data in the order given. MNIST's training file
is in no particular order, but the 5,000-digit sample (``../shared/data/mnist-sample``) is
sorted by class, so shuffle it first (as ``tests/examples/test_from_scratch.py`` does), or
the model ends each epoch having seen only nines.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import numkeras
import numkeras.losses
import numkeras.ops
import numkeras.random
from numkeras.datasets import mnist


class NaiveDense:
    """A dense layer: ``activation(inputs @ W + b)``, with W uniform in [0, 0.1) and b zero."""

    def __init__(self, input_size: int, output_size: int, activation: Callable[[Any], Any]):
        self.activation = activation

        w_shape = (input_size, output_size)
        w_initial_value = numkeras.random.uniform(w_shape, minval=0, maxval=1e-1)
        self.W = numkeras.Variable(w_initial_value)

        b_shape = (output_size,)
        b_initial_value = numkeras.ops.zeros(b_shape)
        self.b = numkeras.Variable(b_initial_value)

    def __call__(self, inputs: Any) -> numkeras.Tensor:
        return self.activation(numkeras.ops.matmul(inputs, self.W) + self.b)

    @property
    def weights(self) -> list[numkeras.Variable]:
        return [self.W, self.b]


class NaiveSequential:
    """Layers called one after the other."""

    def __init__(self, layers: list[NaiveDense]):
        self.layers = layers

    def __call__(self, inputs: Any) -> numkeras.Tensor:
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def weights(self) -> list[numkeras.Variable]:
        weights = []
        for layer in self.layers:
            weights += layer.weights
        return weights


class BatchGenerator:
    """Successive batches of ``batch_size`` images and labels, in order."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int = 128):
        assert len(images) == len(labels)
        self.index = 0
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.num_batches = math.ceil(len(images) / batch_size)

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        images = self.images[self.index : self.index + self.batch_size]
        labels = self.labels[self.index : self.index + self.batch_size]
        self.index += self.batch_size
        return images, labels


def one_training_step(
    model: NaiveSequential, images_batch: np.ndarray, labels_batch: np.ndarray
) -> numkeras.Tensor:
    """Forward pass, loss, gradients by the chain rule, one update; returns the batch loss."""
    with numkeras.GradientTape() as tape:
        predictions = model(images_batch)
        per_sample_losses = numkeras.losses.sparse_categorical_crossentropy(
            labels_batch, predictions
        )
        average_loss = numkeras.ops.mean(per_sample_losses)
    gradients = tape.gradient(average_loss, model.weights)
    update_weights(gradients, model.weights)
    return average_loss


learning_rate = 1e-3


def update_weights(gradients: list[Any], weights: list[numkeras.Variable]) -> None:
    """Plain SGD: move each weight a little against its gradient."""
    for g, w in zip(gradients, weights):
        w.assign_sub(g * learning_rate)


def fit(
    model: NaiveSequential, images: np.ndarray, labels: np.ndarray, epochs: int,
    batch_size: int = 128,
) -> None:
    for epoch_counter in range(epochs):
        print(f"Epoch {epoch_counter}")
        batch_generator = BatchGenerator(images, labels)
        for batch_counter in range(batch_generator.num_batches):
            images_batch, labels_batch = batch_generator.next()
            loss = one_training_step(model, images_batch, labels_batch)
            if batch_counter % 100 == 0:
                print(f"loss at batch {batch_counter}: {loss:.2f}")


def main(data_path: str | None = None, epochs: int = 10) -> float:
    """Train the naive model on MNIST (or the IDX files in ``data_path``); return accuracy."""
    model = NaiveSequential([
        NaiveDense(input_size=28 * 28, output_size=512, activation=numkeras.ops.relu),
        NaiveDense(input_size=512, output_size=10, activation=numkeras.ops.softmax),
    ])
    assert len(model.weights) == 4

    if data_path is None:
        (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    else:
        (train_images, train_labels), (test_images, test_labels) = mnist.load_data(
            path=data_path
        )
    train_images = train_images.reshape((len(train_images), 28 * 28))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28 * 28))
    test_images = test_images.astype("float32") / 255

    fit(model, train_images, train_labels, epochs=epochs, batch_size=128)

    predictions = model(test_images)
    predictions = predictions.numpy()
    predicted_labels = np.argmax(predictions, axis=1)
    matches = predicted_labels == test_labels
    print(f"accuracy: {matches.mean():.2f}")
    return float(matches.mean())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
