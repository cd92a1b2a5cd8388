"""The baseline: the seed network trained by a hand-written, well-optimised NumPy loop.

``Dense(512, relu) -> Dense(10, softmax)``, categorical crossentropy (mean over the batch),
Keras's RMSprop (lr=1e-3, rho=0.9, eps=1e-7 inside the sqrt), batch 128, a fresh shuffle each
epoch, float32 throughout, glorot_uniform kernels and zero biases, per-batch loss and accuracy
accumulated as Keras does. Everything is preallocated and computed in place (``out=``); the
softmax+crossentropy gradient is fused into ``(p - y) / batch``; the input gradient is never
computed; batches are gathered from the shuffled order with ``np.take(..., out=)``.

Prints one JSON line (see ``_common.emit``). Run: ``python benchmarks/contenders/hand_numpy.py``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import _common

LR, RHO, EPS = 0.001, 0.9, 1e-7
# Keras's RMSprop is v = rho*v + (1-rho)*g*g; w -= lr * g / sqrt(v + eps). This loop keeps
# s = (v + eps) / (1 - rho) instead, which follows s = rho*s + g*g + eps, so that
# lr * g / sqrt(v + eps) == (lr / sqrt(1 - rho)) * g / sqrt(s): the same rule in 8 passes over
# the weights instead of 9 (the (1 - rho) and eps scalings fold into constants), and s, unlike
# v, never decays into float32 subnormals (slow on some CPUs; not measurably on this AMD EPYC).
# Python floats, so that float32 arrays stay float32 (a NumPy float64 scalar would upcast).
LR_S = LR / math.sqrt(1.0 - RHO)
EPS_S = EPS / (1.0 - RHO)  # initial s (v = 0)
ADD_S = (1.0 - RHO) * EPS_S  # == EPS, added to s each step
CLIP = 1e-7  # Keras clips probabilities to [eps, 1 - eps] before the log


class HandMLP:
    """784 -> 512 (relu) -> 10 (softmax) with every buffer allocated once."""

    def __init__(self, np: Any, seed: int, batch: int = _common.BATCH_SIZE) -> None:
        self.np = np
        rng = np.random.default_rng(seed)
        f32 = np.float32

        def glorot(fan_in: int, fan_out: int) -> Any:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(f32)

        d_in, d_h, d_out = _common.IMAGE_SIZE, 512, 10
        self.rng = rng
        self.params = [
            glorot(d_in, d_h),
            np.zeros(d_h, f32),
            glorot(d_h, d_out),
            np.zeros(d_out, f32),
        ]
        self.grads = [np.empty_like(p) for p in self.params]
        self.s = [np.full_like(p, EPS_S) for p in self.params]  # RMSprop: (v + eps) / (1 - rho)
        self.tmp = [np.empty_like(p) for p in self.params]
        self.xb = np.empty((batch, d_in), f32)
        self.lb = np.empty(batch, np.int64)
        self.h = np.empty((batch, d_h), f32)
        self.dh = np.empty((batch, d_h), f32)
        self.mask = np.empty((batch, d_h), np.bool_)
        self.z = np.empty((batch, d_out), f32)
        self.zmax = np.empty((batch, 1), f32)
        self.zsum = np.empty((batch, 1), f32)
        self.pred = np.empty(batch, np.int64)
        self.hit = np.empty(batch, np.bool_)
        self.rows = np.arange(batch)

    def forward(self, x: Any) -> Any:
        """Softmax probabilities for the batch ``x`` (a view of an internal buffer)."""
        np, (w1, b1, w2, b2) = self.np, self.params
        n = x.shape[0]
        h, z = self.h[:n], self.z[:n]
        np.matmul(x, w1, out=h)
        np.add(h, b1, out=h)
        np.maximum(h, 0.0, out=h)
        np.matmul(h, w2, out=z)
        np.add(z, b2, out=z)
        zmax, zsum = self.zmax[:n], self.zsum[:n]
        np.max(z, axis=1, keepdims=True, out=zmax)
        np.subtract(z, zmax, out=z)
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=zsum)
        np.divide(z, zsum, out=z)
        return z

    def loss_and_hits(self, p: Any, labels: Any) -> tuple[float, int]:
        """Summed crossentropy (Keras's clipping) and number of correct argmax predictions."""
        np = self.np
        n = p.shape[0]
        pt = p[self.rows[:n], labels]
        np.clip(pt, CLIP, 1.0 - CLIP, out=pt)
        np.log(pt, out=pt)
        pred, hit = self.pred[:n], self.hit[:n]
        np.argmax(p, axis=1, out=pred)
        np.equal(pred, labels, out=hit)
        return -float(pt.sum()), int(np.count_nonzero(hit))

    def backward(self, x: Any, p: Any, labels: Any) -> None:
        """Gradients of the batch-mean loss into ``self.grads``; overwrites ``p``."""
        np, (_, _, w2, _) = self.np, self.params
        gw1, gb1, gw2, gb2 = self.grads
        n = x.shape[0]
        h, dh, mask = self.h[:n], self.dh[:n], self.mask[:n]
        p[self.rows[:n], labels] -= 1.0  # fused softmax + crossentropy: (p - y) / n
        np.multiply(p, 1.0 / n, out=p)
        np.matmul(h.T, p, out=gw2)
        np.sum(p, axis=0, out=gb2)
        np.matmul(p, w2.T, out=dh)
        np.greater(h, 0.0, out=mask)
        np.multiply(dh, mask, out=dh)
        np.matmul(x.T, dh, out=gw1)
        np.sum(dh, axis=0, out=gb1)

    def update(self) -> None:
        """Keras's RMSprop, in place (see LR_S/EPS_S above): 8 passes per weight array."""
        np = self.np
        for w, g, s, t in zip(self.params, self.grads, self.s, self.tmp, strict=True):
            np.multiply(g, g, out=t)
            np.multiply(s, RHO, out=s)
            np.add(s, t, out=s)
            np.add(s, ADD_S, out=s)
            np.sqrt(s, out=t)
            np.divide(g, t, out=t)
            np.multiply(t, LR_S, out=t)
            np.subtract(w, t, out=w)

    def train_epoch(self, x: Any, labels: Any, batch: int) -> tuple[float, float]:
        """One shuffled epoch; returns (mean loss, accuracy) accumulated over its batches."""
        np = self.np
        n = x.shape[0]
        order = self.rng.permutation(n)
        loss_sum, hits = 0.0, 0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            m = idx.shape[0]
            xb, lb = self.xb[:m], self.lb[:m]
            self.gather(x, idx, xb)
            np.take(labels, idx, out=lb, mode="clip")
            p = self.forward(xb)
            batch_loss, batch_hits = self.loss_and_hits(p, lb)
            loss_sum += batch_loss
            hits += batch_hits
            self.backward(xb, p, lb)
            self.update()
        return loss_sum / n, hits / n

    def gather(self, x: Any, idx: Any, out: Any) -> None:
        """The batch's rows of ``x``, written into ``out``."""
        self.np.take(x, idx, axis=0, out=out, mode="clip")  # "clip": no buffered copy of out

    def evaluate(self, x: Any, labels: Any, batch: int) -> tuple[float, float]:
        """Mean loss and accuracy over ``x`` in batches (no shuffling, no update)."""
        loss_sum, hits = 0.0, 0
        for start in range(0, x.shape[0], batch):
            lb = labels[start : start + batch]
            batch_loss, batch_hits = self.loss_and_hits(self.forward(x[start : start + batch]), lb)
            loss_sum += batch_loss
            hits += batch_hits
        return loss_sum / x.shape[0], hits / x.shape[0]

    def predict(self, x: Any, batch: int, out: Any) -> Any:
        """Bare forward pass: probabilities for ``x`` written into ``out``."""
        for start in range(0, x.shape[0], batch):
            out[start : start + batch] = self.forward(x[start : start + batch])
        return out


class FusedUpdateMLP(HandMLP):
    """The same loop, but its RMSprop update is numkeras's compiled fused kernel (one pass per
    weight, Keras's literal rule). Not a contender: the hand loop minus its update passes, with
    no framework around it (its softmax, loss, bias and relu are still NumPy calls)."""

    def __init__(self, np: Any, seed: int, batch: int = _common.BATCH_SIZE) -> None:
        super().__init__(np, seed, batch)
        from numkeras.optimizers import kernels

        self.velocities = [np.zeros_like(p) for p in self.params]
        self.fused = kernels.fused
        f32 = np.float32
        self.scalars = (f32(RHO), f32(1.0 - RHO), f32(EPS), f32(LR))

    def update(self) -> None:
        for w, g, v in zip(self.params, self.grads, self.velocities, strict=True):
            if not self.fused("rmsprop", (w, g, v), self.scalars):
                raise RuntimeError("numkeras's compiled fused kernels are not available")


class KernelLoopMLP(FusedUpdateMLP):
    """numkeras's own compiled kernels in a bare loop: the compute floor of numkeras's ``fit``.

    Not a contender either. The same arithmetic as numkeras's training step -- its compiled
    batch gather, softmax, crossentropy on the probabilities (Keras's clip) and their VJPs,
    bias + relu, relu's VJP with the bias gradient, the fused RMSprop -- called directly, into
    preallocated buffers, with no tape, layers, loss objects or optimizer objects around them.
    ``fit`` minus this is what numkeras's framework costs per step.
    """

    def __init__(self, np: Any, seed: int, batch: int = _common.BATCH_SIZE) -> None:
        super().__init__(np, seed, batch)
        from numkeras import _compiled

        self.kernels = _compiled.extension()
        if self.kernels is None:
            raise RuntimeError("numkeras's compiled kernels are not available")
        f32 = np.float32
        d_h, d_out = self.h.shape[1], self.z.shape[1]
        self.eye = np.eye(d_out, dtype=f32)
        self.p = np.empty((batch, d_out), f32)
        self.targets = np.empty((batch, d_out), f32)
        self.row_losses = np.empty(batch, f32)
        self.row_grads = np.empty(batch, f32)
        self.dp = np.empty((batch, d_out), f32)
        self.dz = np.empty((batch, d_out), f32)
        self.dh_in = np.empty((batch, d_h), f32)

    def _run(self, name: str, *args: Any) -> None:
        if not getattr(self.kernels, f"{name}_f32")(*args):
            raise RuntimeError(f"numkeras's {name} kernel declined its arrays")

    def gather(self, x: Any, idx: Any, out: Any) -> None:
        self._run("take_rows", x, idx, out)  # fit's compiled gather

    def forward(self, x: Any) -> Any:
        np, (w1, b1, w2, b2) = self.np, self.params
        n = x.shape[0]
        h, z, p = self.h[:n], self.z[:n], self.p[:n]
        np.matmul(x, w1, out=h)
        self._run("bias_relu", h, b1, 1.0, h.shape[1])
        np.matmul(h, w2, out=z)
        self._run("bias_relu", z, b2, 0.0, z.shape[1])
        self._run("softmax", z, p, z.shape[1])
        return p

    def loss_and_hits(self, p: Any, labels: Any) -> tuple[float, int]:
        np = self.np
        n, k = p.shape
        targets, losses = self.targets[:n], self.row_losses[:n]
        np.take(self.eye, labels, axis=0, out=targets, mode="clip")  # one-hot, as fit gets
        self._run("crossentropy", targets, p, losses, CLIP, k)
        pred, hit = self.pred[:n], self.hit[:n]
        np.argmax(p, axis=1, out=pred)
        np.equal(pred, labels, out=hit)
        return float(np.add.reduce(losses)), int(np.count_nonzero(hit))

    def backward(self, x: Any, p: Any, labels: Any) -> None:
        np, (_, _, w2, _) = self.np, self.params
        gw1, gb1, gw2, gb2 = self.grads
        n, k = p.shape
        h, dh_in, dh = self.h[:n], self.dh_in[:n], self.dh[:n]
        row_grads, dp, dz = self.row_grads[:n], self.dp[:n], self.dz[:n]
        row_grads.fill(1.0 / n)  # the batch mean's VJP
        self._run("crossentropy_vjp", self.targets[:n], p, row_grads, dp, CLIP, k)
        self._run("softmax_vjp", dp, p, dz, k)
        np.matmul(h.T, dz, out=gw2)
        self._run("bias_vjp", dz, gb2, k)
        np.matmul(dz, w2.T, out=dh_in)
        self._run("relu_bias_vjp", dh_in, h, dh, gb1, h.shape[1])
        np.matmul(x.T, dh, out=gw1)


def main() -> None:
    parser = _common.make_parser(__doc__.splitlines()[0])
    parser.add_argument("--fused-update", action="store_true",
                        help="update with numkeras's fused RMSprop kernel (the 'hand_fused' row)")
    args = parser.parse_args()
    np, import_s = _common.timed_import("numpy")
    x, labels, xt, labels_t = _common.load_fashion_mnist(args.limit)
    batch = _common.BATCH_SIZE
    net = (FusedUpdateMLP if args.fused_update else HandMLP)(np, args.seed, batch)

    epoch_times, train_loss, train_acc = [], [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        loss, acc = net.train_epoch(x, labels, batch)
        epoch_times.append(time.perf_counter() - start)
        train_loss.append(loss)
        train_acc.append(acc)

    test_loss, test_acc = net.evaluate(xt, labels_t, batch)
    probs = np.empty((xt.shape[0], 10), np.float32)
    n_test = xt.shape[0]
    evaluate_ips = _common.images_per_second(
        lambda: net.evaluate(xt, labels_t, batch), n_test, args.repeats
    )
    predict_ips = _common.images_per_second(
        lambda: net.predict(xt, batch, probs), n_test, args.repeats
    )
    rss = _common.peak_rss_mib()
    _common.emit(
        {
            "name": "hand_fused" if args.fused_update else "hand_numpy",
            "epoch_times": epoch_times,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "test_loss": test_loss,
            "evaluate_images_per_s": evaluate_ips,
            "predict_images_per_s": predict_ips,
            "peak_rss_mib": rss,
            "import_s": import_s,
            "import_what": "import numpy",
            "n_train": int(x.shape[0]),
            "batch_size": batch,
            "versions": {"numpy": np.__version__},
            "threadpools": _common.threadpools(),
        }
    )


if __name__ == "__main__":
    main()
