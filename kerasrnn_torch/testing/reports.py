"""Readable tables of which recurrent layer ran which path, and the result of a comparison."""
from __future__ import annotations

from dataclasses import dataclass, field

from .recording import PathTaken


@dataclass(frozen=True)
class LayerPath:
    """One recurrent layer in a report (a Bidirectional's two inner layers are folded into its row)."""
    name: str            # the layer's path in the model, as named_modules() spells it ("" for the model itself)
    layer: str           # its class
    path: str            # "fused", "loop", "fused and loop" (calls differed) or "not called"
    calls: int
    reason: str | None   # why the fused kernel did not run (dispatch_reason), None when it ran every call


@dataclass
class PathsReport:
    """Which recurrent layers run the fused kernel and which the cell loop, and why. Prints as a table."""
    rows: list[LayerPath] = field(default_factory=list)

    @property
    def fused(self) -> list[str]:
        return [row.name for row in self.rows if row.path == "fused"]

    @property
    def loop_only(self) -> list[str]:
        return [row.name for row in self.rows if row.path != "fused"]

    def table(self) -> str:
        header = ("layer", "class", "path", "calls", "why not fused")
        lines = [header] + [(row.name or "(the model)", row.layer, row.path, str(row.calls), row.reason or "-") for row in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        text = ["  ".join(cell.ljust(width) for cell, width in zip(line[:4], widths)) + "  " + line[4]
                for line in lines]
        text.insert(1, "-" * len(text[0]))
        if not self.rows:
            text.append("(no recurrent layer of kerasrnn_torch in the model)")
        return "\n".join(line.rstrip() for line in text)

    __str__ = table

    def __repr__(self) -> str:
        return self.table()


def build_report(layers, paths: dict[str, list[PathTaken]]) -> PathsReport:
    """Rows for the outermost recurrent layers `[(name, module), ...]`, from the calls recorded in one run."""
    rows = []
    for name, module in layers:
        taken = paths.get(name, [])
        ran = {call.path for call in taken}
        if not taken:
            path = "not called"
        elif ran == {"fused"}:
            path = "fused"
        elif "fused" in ran:
            path = "fused and loop"
        else:
            path = "loop"
        reasons = list(dict.fromkeys(call.reason for call in taken if call.path != "fused" and call.reason))
        if path == "not called":
            reasons = ["the model did not call it with these inputs"]
        rows.append(LayerPath(name, type(module).__name__, path, len(taken), "; ".join(reasons) or None))
    return PathsReport(rows)


@dataclass
class Agreement:
    """What `assert_paths_agree` found when both paths agreed."""
    paths: PathsReport                          # which layer ran which path in the fused run
    output_difference: float = 0.0              # over the model's outputs
    gradient_difference: float = 0.0            # over parameter (and floating input) gradients
    state_difference: float = 0.0               # over stateful layers' states and non-trainable tensors
    compared_gradients: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"fused and loop paths agree: outputs {self.output_difference:.1e}, "
                 f"gradients {self.gradient_difference:.1e} ({self.compared_gradients} tensors), "
                 f"states {self.state_difference:.1e}", *self.notes, str(self.paths)]
        return "\n".join(lines)

    __repr__ = __str__
