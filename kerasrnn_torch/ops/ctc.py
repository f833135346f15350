"""`keras.ops.ctc_loss` and `keras.ops.ctc_decode`: connectionist temporal classification over `(batch, time,
classes)` logits, as Keras's torch backend computes them.

`ctc_decode`'s greedy strategy takes the best class at each step, merges
repeats and drops blanks; its beam search keeps the `beam_width` most
probable label prefixes, each scored by the summed probability of the paths
that collapse to it (ending in a blank or not), and returns the `top_paths`
best.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .core import result_type, tensor
from .operation import operation


def _logits(x: Any, owner: str) -> torch.Tensor:
    logits = tensor(x)
    if logits.dim() != 3:
        raise ValueError(f"kr.ops.{owner}: the logits must be 3-D (batch, time, classes), got shape "
                         f"{tuple(logits.shape)}")
    return logits.to(result_type(logits, torch.float32))


@operation("CTCLoss", config=("mask_index",), module="nn")
def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0) -> torch.Tensor:
    """The CTC loss of each sequence: `target` `(batch, max_label_length)` integer labels (the first
    `target_length` of each row count), `output` `(batch, time, classes)` logits (the first
    `output_length` steps count), `mask_index` the blank class, as `keras.ops.ctc_loss`.

    >>> ctc_loss(torch.tensor([[1, 2]]), torch.zeros(1, 4, 3), torch.tensor([2]), torch.tensor([4])).shape
    torch.Size([1])
    """
    logits = _logits(output, "ctc_loss")
    labels = tensor(target)
    if labels.dim() != 2 or labels.shape[0] != logits.shape[0]:
        raise ValueError(f"kr.ops.ctc_loss: target must be 2-D (batch, max_label_length) with output's batch "
                         f"({logits.shape[0]}), got shape {tuple(labels.shape)}")
    log_probabilities = F.log_softmax(logits.transpose(0, 1), dim=-1)
    return F.ctc_loss(log_probabilities, labels, tensor(output_length), tensor(target_length), blank=mask_index,
                      reduction="none")


def _greedy(logits: torch.Tensor, lengths: torch.Tensor, merge_repeated: bool,
            blank: int) -> tuple[torch.Tensor, torch.Tensor]:
    scores, best = logits.max(dim=-1)
    best = best.to(torch.int32)
    steps = logits.shape[1]
    beyond = torch.arange(steps, device=logits.device)[None, :] >= lengths[:, None]
    best = torch.where(beyond, blank, best)
    scores = torch.where(beyond, torch.zeros((), dtype=scores.dtype), scores)
    if merge_repeated:
        repeated = torch.zeros_like(beyond)
        repeated[:, 1:] = best[:, 1:] == best[:, :-1]
        best = torch.where(repeated, blank, best)
    dropped = best == blank
    # The kept labels move to the front, in order; -1 fills the rest.
    order = torch.where(dropped, steps, torch.arange(steps, device=logits.device)).argsort(dim=-1, stable=True)
    labels = torch.where(dropped, -1, best).gather(1, order)
    return labels[None], -scores.sum(dim=1, keepdim=True)


def _log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), exact for -inf."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _beam_search(log_probs: list[list[float]], steps: int, beam_width: int, top_paths: int,
                 blank: int) -> tuple[torch.Tensor, list[float]]:
    """One sequence's CTC prefix beam search over its first `steps` steps: the `top_paths` best label
    sequences (padded with -1 to the number of steps) and their log probabilities."""
    # prefix -> (log probability of its paths that end in a blank, of those that end in its last label)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for step in log_probs[:steps]:
        grown: dict[tuple[int, ...], tuple[float, float]] = {}

        def add(prefix: tuple[int, ...], ends_blank: float, ends_label: float) -> None:
            old_blank, old_label = grown.get(prefix, (-math.inf, -math.inf))
            grown[prefix] = (_log_add(old_blank, ends_blank), _log_add(old_label, ends_label))

        for prefix, (ends_blank, ends_label) in beams.items():
            total = _log_add(ends_blank, ends_label)
            add(prefix, total + step[blank], -math.inf)
            for label, score in enumerate(step):
                if label == blank:
                    continue
                if prefix and prefix[-1] == label:
                    add(prefix, -math.inf, ends_label + score)      # the label held: one label
                    add(prefix + (label,), -math.inf, ends_blank + score)
                else:
                    add(prefix + (label,), -math.inf, total + score)
        beams = dict(sorted(grown.items(), key=lambda item: _log_add(*item[1]), reverse=True)[:beam_width])
    best = sorted(beams.items(), key=lambda item: _log_add(*item[1]), reverse=True)[:top_paths]
    paths = torch.full((top_paths, len(log_probs)), -1, dtype=torch.int32)
    scores = [-math.inf] * top_paths
    for i, (prefix, tracks) in enumerate(best):
        paths[i, :len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
        scores[i] = _log_add(*tracks)
    return paths, scores


def _decoded_shapes(config: dict[str, Any], inputs: list[tuple]) -> list[tuple]:
    """Keras's shapes on symbolic inputs: the paths' first axis counts paths, not sequences."""
    paths = 1 if config.get("strategy") == "greedy" else config.get("top_paths")
    batch, steps = inputs[0][:2]
    return [(paths, batch, steps), (batch, paths)]


@operation("CTCDecode", config=("strategy", "beam_width", "top_paths", "merge_repeated", "mask_index"),
           module="nn", symbolic_shapes=_decoded_shapes)
def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int | None = 0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The label sequences of `(batch, time, classes)` logits (the first `sequence_lengths` steps of each),
    as `keras.ops.ctc_decode`: `(paths, scores)`, paths `(top_paths, batch, time)` int32 labels padded
    with -1. "greedy" (one path; its score is minus the sum of the chosen logits; `merge_repeated`
    merges repeated labels) or "beam_search" (scores are log probabilities). `mask_index` is the blank
    class (None: the last).

    >>> logits = torch.log(torch.tensor([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1],
    ...                                   [0.1, 0.1, 0.8]]]))
    >>> ctc_decode(logits, torch.tensor([4]))[0]
    tensor([[[ 1,  2, -1, -1]]], dtype=torch.int32)
    """
    logits = _logits(inputs, "ctc_decode")
    lengths = tensor(sequence_lengths, torch.int32).to(logits.device)
    if lengths.shape != (logits.shape[0],):
        raise ValueError(f"kr.ops.ctc_decode: sequence_lengths must hold one length per sequence "
                         f"({logits.shape[0]}), got shape {tuple(lengths.shape)}")
    blank = logits.shape[-1] - 1 if mask_index is None else mask_index
    if strategy == "greedy":
        return _greedy(logits, lengths, merge_repeated, blank)
    if strategy != "beam_search":
        raise ValueError(f"kr.ops.ctc_decode: `strategy` must be 'greedy' or 'beam_search', got {strategy!r}")
    log_probs = F.log_softmax(logits, dim=-1).detach().cpu().double().tolist()
    found = [_beam_search(rows, int(length), beam_width, top_paths, blank)
             for rows, length in zip(log_probs, lengths.tolist())]
    paths = torch.stack([p for p, _ in found], dim=1).to(logits.device)
    scores = torch.tensor([s for _, s in found], dtype=logits.dtype, device=logits.device)
    return paths, scores
