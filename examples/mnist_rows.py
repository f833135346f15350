"""MNIST rows as timesteps: one LSTM classifier trained on the fused path and on the loop path.

Each 28x28 image is read as a sequence of 28 rows of 28 pixels. The same model,
`LSTM(units) -> Dense(10)`, is trained twice from the same initial weights:
once as `kr.LSTM` (PyTorch's fused kernel) and once as `kr.RNN(kr.LSTMCell)`
(the Python cell loop, Keras's way of asking for the generic loop), each with
Keras's `compile` and `fit` exactly as a Keras program writes them
(`SparseCategoricalCrossentropy(from_logits=True)`, `"sgd"`, `["accuracy"]`,
`validation_data`, batches of 64). Then per-epoch time and accuracy side by
side: the accuracies agree, the times show what the fused kernel buys.

Data: a local torchvision MNIST copy under `--data-dir` when one exists
(nothing is downloaded; torchvision is optional), else a synthetic stand-in of
the same shape, announced as such.

    python examples/mnist_rows.py                    # 2 epochs on 60,000 images (or the stand-in)
    python examples/mnist_rows.py --data-dir ~/data  # where torchvision's MNIST/raw lives
    python examples/mnist_rows.py --quick            # a few seconds
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

import kerasrnn_torch as kr
from kerasrnn_torch.benchmarks.benchmark import synthetic_mnist


def load_data(data_dir: str, train_samples: int, test_samples: int):
    """(train images, train labels, test images, test labels, source description)."""
    try:
        from torchvision.datasets import MNIST
    except ImportError:
        reason = "torchvision is not installed"
    else:
        try:
            train = MNIST(data_dir, train=True, download=False)
            test = MNIST(data_dir, train=False, download=False)
        except RuntimeError as error:          # torchvision's "Dataset not found"
            reason = f"no MNIST copy under {data_dir} ({error})"
        else:
            return (train.data[:train_samples].float() / 255.0, train.targets[:train_samples],
                    test.data[:test_samples].float() / 255.0, test.targets[:test_samples],
                    f"MNIST from {data_dir}")
    print(f"NOTE: {reason}; nothing is downloaded, so this run uses a SYNTHETIC stand-in with MNIST's shape "
          "(28 rows of 28 pixels, 10 classes, a learnable pattern per class). Accuracies below are on it, "
          "not on MNIST.")
    train_images, train_labels = synthetic_mnist(train_samples, torch.Generator().manual_seed(0))
    test_images, test_labels = synthetic_mnist(test_samples, torch.Generator().manual_seed(1))
    return train_images, train_labels, test_images, test_labels, "synthetic stand-in"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.path.expanduser("~/.torchvision"),
                        help="folder holding torchvision's MNIST/raw (default ~/.torchvision); never downloaded")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", default="sgd", help="a Keras optimizer name (the seed's: sgd)")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="fit's progress: Keras's levels")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--test-samples", type=int, default=10000)
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds: 3 epochs on 2,048 training and 512 test images, 32 units, "
                             "and adam (sgd learns too slowly for 96 steps)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.units, args.train_samples, args.test_samples = 3, 32, 2048, 512
        args.optimizer = "adam"

    train_images, train_labels, test_images, test_labels, source = load_data(
        args.data_dir, args.train_samples, args.test_samples)
    print(f"data: {source}; {len(train_images)} training and {len(test_images)} test images of "
          f"{tuple(train_images.shape[1:])} (rows as timesteps); torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    torch.manual_seed(0)
    # input_shape= builds the weights now, so the optimizers below see them (Keras's build).
    fused_model = kr.Sequential([kr.LSTM(args.units, input_shape=(28, 28)), kr.Dense(10)], name="fused")
    loop_model = kr.Sequential([kr.RNN(kr.LSTMCell(args.units), input_shape=(28, 28)), kr.Dense(10)], name="loop")
    loop_model.set_weights(fused_model.get_weights())     # same Keras-layout weights: same starting point
    models = {"fused": fused_model, "loop": loop_model}
    labels_of = {"fused": "kr.LSTM", "loop": "kr.RNN(kr.LSTMCell)"}
    for model in models.values():
        # As the seed writes it: Keras's loss, optimizer and metric names, Keras's numbers.
        model.compile(loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer=args.optimizer,
                      metrics=["accuracy"])
    fused_model.summary()

    history: dict[str, list[tuple[float, float, float]]] = {path: [] for path in models}
    for epoch in range(1, args.epochs + 1):
        for path, model in models.items():
            print(f"Epoch {epoch}/{args.epochs}, {path} path ({labels_of[path]}): fit(..., epochs=1)")
            torch.manual_seed(epoch)             # the same shuffling for both paths
            start = time.perf_counter()
            result = model.fit(train_images, train_labels, validation_data=(test_images, test_labels),
                               batch_size=args.batch_size, epochs=1, verbose=args.verbose)
            seconds = time.perf_counter() - start
            ran = model.layers[0].last_path
            assert ran == path, f"the {path} model ran the {ran} path"
            train_accuracy, test_accuracy = result.history["accuracy"][-1], result.history["val_accuracy"][-1]
            history[path].append((seconds, train_accuracy, test_accuracy))
            print(f"epoch {epoch} {path:>5} path: {seconds:6.2f} s, train accuracy {train_accuracy:.4f}, "
                  f"test accuracy {test_accuracy:.4f} (layer.last_path = {ran!r})")

    print()
    print(f"{'epoch':>5}  {'fused s':>8}  {'loop s':>8}  {'loop/fused':>10}  {'fused acc':>9}  {'loop acc':>9}")
    for epoch, (fused, loop) in enumerate(zip(history["fused"], history["loop"]), 1):
        print(f"{epoch:>5}  {fused[0]:>8.2f}  {loop[0]:>8.2f}  {loop[0] / fused[0]:>9.1f}x  {fused[2]:>9.4f}  "
              f"{loop[2]:>9.4f}")
    print(f"final test accuracy: fused {history['fused'][-1][2]:.4f}, loop {history['loop'][-1][2]:.4f} "
          f"({source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
