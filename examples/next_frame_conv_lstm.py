"""Next-frame prediction with ConvLSTM2D on generated moving squares (the keras-io conv_lstm task).

Each clip shows one to three squares moving in straight lines and bouncing
off the walls. The model reads frames 0..T-2 and predicts, at every step,
the next frame: two ConvLSTM2D layers (return_sequences=True, padding
"same") and a per-pixel Dense(1, sigmoid), trained with binary
cross-entropy. A square's next position depends on its motion, which one
frame does not show, so the model is compared with copying the last frame.
With matplotlib installed (the `examples` extra), a picture of true and
predicted frames is saved as a PNG.

    python examples/next_frame_conv_lstm.py
    python examples/next_frame_conv_lstm.py --quick
"""
from __future__ import annotations

import argparse
import os

import torch

import kerasrnn_torch as kr


def moving_squares(count: int, frames: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """`(count, frames, size, size, 1)` clips of squares moving one or two pixels a frame, bouncing."""
    clips = torch.zeros(count, frames, size, size, 1)
    for n in range(count):
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            width = int(torch.randint(2, 4, (1,), generator=generator))
            position = torch.randint(0, size - width + 1, (2,), generator=generator)
            velocity = torch.randint(1, 3, (2,), generator=generator) * (
                torch.randint(0, 2, (2,), generator=generator) * 2 - 1)
            for t in range(frames):
                row, col = int(position[0]), int(position[1])
                clips[n, t, row:row + width, col:col + width, 0] = 1.0
                for axis in range(2):          # bounce off the walls
                    step = position[axis] + velocity[axis]
                    if step < 0 or step > size - width:
                        velocity[axis] = -velocity[axis]
                    position[axis] += velocity[axis]
    return clips


def build_model(size: int, filters: int) -> kr.Sequential:
    return kr.Sequential([
        kr.Input((None, size, size, 1)),
        kr.ConvLSTM2D(filters, 3, padding="same", return_sequences=True),
        kr.ConvLSTM2D(filters, 3, padding="same", return_sequences=True),
        kr.Dense(1, activation="sigmoid"),
    ])


def save_picture(true: torch.Tensor, predicted: torch.Tensor, path: str) -> bool:
    """True and predicted frames of one clip, one above the other; False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    frames = true.shape[0]
    figure, axes = plt.subplots(2, frames, figsize=(1.6 * frames, 3.4))
    for t in range(frames):
        for row, (clip, label) in enumerate(((true, "true"), (predicted, "predicted"))):
            axes[row, t].imshow(clip[t, :, :, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, t].axis("off")
            axes[row, t].set_title(f"{label} {t + 1}", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data and few steps (for tests)")
    parser.add_argument("--png", default="next_frame_predictions.png")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    size, frames, clips, filters, steps = (16, 8, 128, 8, 200) if args.quick else (32, 12, 640, 24, 600)
    generator = torch.Generator().manual_seed(0)
    data = moving_squares(clips, frames, size, generator)
    held_out = moving_squares(32, frames, size, generator)
    model = build_model(size, filters)
    kr.summary(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.BCELoss()
    batch, losses = 16, []
    model.train()
    for step in range(steps):
        rows = torch.randint(0, clips, (batch,))
        clip = data[rows]
        loss = loss_fn(model(clip[:, :-1]), clip[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"trained {steps} steps: loss {losses[0]:.3f} -> {sum(losses[-5:]) / 5:.3f}")
    model.eval()
    with torch.no_grad():
        predicted = model(held_out[:, :-1])
    # Scored once a few frames have shown the motion: frames 3.. predicted from frames 0..2 onwards.
    error = float(((predicted[:, 2:] - held_out[:, 3:]) ** 2).mean())
    copy_error = float(((held_out[:, 2:-1] - held_out[:, 3:]) ** 2).mean())
    print(f"held-out next-frame squared error: {error:.4f} (copying the last frame: {copy_error:.4f})")
    first = model.layers[0]
    assert isinstance(first, kr.ConvLSTM2D)
    print(f"path: {first.last_path} ({first.dispatch_reason()})")
    if save_picture(held_out[0, 1:], predicted[0], args.png):
        print(f"saved {os.path.abspath(args.png)}")
    else:
        print("matplotlib is not installed: no picture (pip install 'kerasrnn_torch[examples]')")


if __name__ == "__main__":
    main()
