"""The seed's program: chapter 2's first network, on numkeras.

This is the program from the study notes (``../shared/seed/``) with its imports changed from
``keras`` to ``numkeras`` and its three typos fixed (``net_add`` -> ``net.add``, ``network``
-> ``net``, the test images reshaped to ``(10000, 28 * 28)``). One more change lets it run on
any MNIST-shaped data: the reshapes use ``len(...)`` instead of the literal 60000 and 10000.

    python examples/seed_mnist.py                 # MNIST (cache, Keras's cache, or download)
    python examples/seed_mnist.py DIR_OR_NPZ      # a directory of IDX files, or an .npz
"""

import sys

from numkeras import layers, models
from numkeras.datasets import mnist
from numkeras.utils import to_categorical


def main(path: str = "mnist.npz") -> tuple[float, float]:
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data(path=path)

    net = models.Sequential()
    net.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
    net.add(layers.Dense(10, activation="softmax"))

    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    train_images = train_images.reshape((len(train_images), 28 * 28))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28 * 28))
    test_images = test_images.astype("float32") / 255

    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    net.fit(train_images, train_labels, epochs=5, batch_size=128)

    test_loss, test_acc = net.evaluate(test_images, test_labels)
    print("test_acc:", test_acc)
    return test_loss, test_acc


if __name__ == "__main__":
    main(*sys.argv[1:2])
