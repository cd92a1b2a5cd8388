"""The seed network in PyTorch on the CPU: a reference point, not the baseline.

``nn.Linear(784, 512) -> ReLU -> nn.Linear(512, 10)``, ``nn.CrossEntropyLoss`` on the logits
(mean over the batch; softmax is applied only for predict), ``torch.optim.RMSprop`` with
alpha=0.9 (Keras's rho), lr=1e-3 and eps=1e-7, xavier (glorot) uniform weights, zero biases,
batch 128, a fresh shuffle each epoch, float32; no torch.compile. PyTorch's default thread
count is left alone. Skipped, with a JSON line saying so, when torch cannot be imported.

Run: ``python benchmarks/contenders/torch_cpu.py``.
"""

from __future__ import annotations

import time

import _common


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    try:
        torch, import_s = _common.timed_import("torch")
    except ImportError as exc:
        _common.skip("torch_cpu", f"torch is not importable: {exc}")
        return
    import numpy as np
    from torch import nn

    x_np, labels_np, xt_np, labels_t_np = _common.load_fashion_mnist(args.limit)
    x, labels = torch.from_numpy(x_np), torch.from_numpy(labels_np)
    xt, labels_t = torch.from_numpy(xt_np), torch.from_numpy(labels_t_np)
    batch, n = _common.BATCH_SIZE, x_np.shape[0]

    torch.manual_seed(args.seed)
    net = nn.Sequential(nn.Linear(_common.IMAGE_SIZE, 512), nn.ReLU(), nn.Linear(512, 10))
    for layer in (net[0], net[2]):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    # PyTorch's RMSprop puts eps OUTSIDE the sqrt (g / (sqrt(v) + eps)) where Keras has
    # g / sqrt(v + eps); eps=1e-7 is used anyway, as close to Keras as torch allows.
    optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    xb = torch.empty(batch, _common.IMAGE_SIZE)
    lb = torch.empty(batch, dtype=torch.int64)

    epoch_times, train_loss, train_acc = [], [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        loss_sum = torch.zeros((), dtype=torch.float64)
        hits = torch.zeros((), dtype=torch.int64)
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            m = idx.shape[0]
            xm, lm = xb[:m], lb[:m]
            torch.index_select(x, 0, idx, out=xm)
            torch.index_select(labels, 0, idx, out=lm)
            logits = net(xm)
            loss = loss_fn(logits, lm)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += loss.detach() * m
                hits += (logits.argmax(dim=1) == lm).sum()
        train_loss.append(loss_sum.item() / n)
        train_acc.append(hits.item() / n)
        epoch_times.append(time.perf_counter() - start)

    def evaluate() -> tuple[float, float]:
        loss_sum, hits = 0.0, 0
        with torch.inference_mode():
            for first in range(0, xt.shape[0], batch):
                logits = net(xt[first : first + batch])
                target = labels_t[first : first + batch]
                loss_sum += nn.functional.cross_entropy(logits, target, reduction="sum").item()
                hits += int((logits.argmax(dim=1) == target).sum())
        return loss_sum / xt.shape[0], hits / xt.shape[0]

    probs = torch.empty(xt.shape[0], 10)

    def predict() -> torch.Tensor:
        with torch.inference_mode():
            for first in range(0, xt.shape[0], batch):
                torch.softmax(
                    net(xt[first : first + batch]), dim=1, out=probs[first : first + batch]
                )
        return probs

    test_loss, test_acc = evaluate()
    n_test = xt.shape[0]
    evaluate_ips = _common.images_per_second(evaluate, n_test, args.repeats)
    predict_ips = _common.images_per_second(predict, n_test, args.repeats)
    rss = _common.peak_rss_mib()
    _common.emit(
        {
            "name": "torch_cpu",
            "epoch_times": epoch_times,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "test_loss": test_loss,
            "evaluate_images_per_s": evaluate_ips,
            "predict_images_per_s": predict_ips,
            "peak_rss_mib": rss,
            "import_s": import_s,
            "import_what": "import torch",
            "n_train": n,
            "batch_size": batch,
            "versions": {"torch": torch.__version__, "numpy": np.__version__},
            "torch_num_threads": torch.get_num_threads(),
            "threadpools": _common.threadpools(),
        }
    )


if __name__ == "__main__":
    main()
