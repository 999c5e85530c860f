"""ONNX export parity of every registered variant, as a Markdown table.

``python -m benchmarks.export_parity [--pattern '*'] [--skip-larger-than-mparams X] [--fp16]
[--out parity.md]``

Each backbone matching the fnmatch patterns is built at random init with the head, exported
with ``export_onnx`` and validated by it: ONNX Runtime (CPU) and eager PyTorch run random
and simulated inputs at batch sizes 1, 2 and 5. A row gives, per output, the largest
absolute difference (metres for ``*_m`` outputs) and the largest difference relative to
the output's scale, whether every element is within the tolerance, and the export time
(validation included). ``--fp16`` adds a float16 export of each variant, judged with
``FP16_TOLERANCE``. A variant that fails is a row with its error; the exit status is 1
when any row failed.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime
import torch

from rfloc_core.atomic import write_text_atomic
from rfloc_core.export.onnx_export import export_onnx, read_validation
from rfloc_core.export.validation import FP16_TOLERANCE, FP32_TOLERANCE
from rfloc_core.model import LocalizationNet, create_model
from rfloc_core.registry import get_registry
from rfloc_core.specs import BackboneSpec

BATCH_SIZES = (1, 2, 5)


@dataclass
class ParityRow:
    variant: str
    family: str
    precision: str
    params_m: float | None = None
    max_abs: dict[str, float] = field(default_factory=dict)
    max_rel: dict[str, float] = field(default_factory=dict)
    status: str = "error"  # passed, FAILED, error or skipped
    export_s: float | None = None
    note: str = ""


def _describe(error: BaseException) -> str:
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line[:300]}"


def count_params_m(name: str, head: str) -> float:
    """Parameters of the composed model, in millions, built on the meta device (no memory)."""
    with torch.device("meta"):
        model = create_model(name, head=head)
    return sum(p.numel() for p in model.parameters()) / 1e6


def _params_m(model: LocalizationNet) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def export_and_read(model: LocalizationNet, path: Path, fp16: bool, row: ParityRow) -> None:
    """Export, then fill ``row`` from the validation report the export stored in the file."""
    start_s = time.perf_counter()
    # allow_mismatch keeps a file that misses the tolerance, so its differences can be shown.
    export_onnx(model, path, fp16=fp16, batch_sizes=BATCH_SIZES, allow_mismatch=True)
    row.export_s = time.perf_counter() - start_s
    report = read_validation(path)
    if report is None:
        raise RuntimeError(f"{path.name} carries no rfloc.validation metadata")
    outputs: dict[str, dict[str, float]] = report["outputs"]  # type: ignore[assignment]
    row.max_abs = {name: d["max_abs"] for name, d in outputs.items()}
    row.max_rel = {name: d["max_rel"] for name, d in outputs.items()}
    row.status = "passed" if report["passed"] else "FAILED"


def check_variant(
    spec: BackboneSpec, head: str, precisions: Sequence[str], limit_m: float | None
) -> list[ParityRow]:
    rows = [ParityRow(spec.name, spec.family, precision) for precision in precisions]
    try:
        params_m = count_params_m(spec.name, head)
    except Exception:  # a backbone that cannot be built on the meta device is counted below
        params_m = None
    if params_m is not None and limit_m is not None and params_m > limit_m:
        skipped = ParityRow(
            spec.name, spec.family, "/".join(precisions), params_m, status="skipped"
        )
        skipped.note = f"larger than {limit_m:g} M parameters"
        return [skipped]
    model: LocalizationNet | None = None
    try:
        torch.manual_seed(0)
        model = create_model(spec.name, head=head).eval()
        for row in rows:
            row.params_m = _params_m(model)
        with tempfile.TemporaryDirectory(prefix="rfloc-parity-") as folder:
            for row in rows:
                try:
                    path = Path(folder) / f"{spec.name}-{row.precision}.onnx"
                    export_and_read(model, path, row.precision == "fp16", row)
                except Exception as error:
                    row.status, row.note = "error", _describe(error)
    except Exception as error:
        for row in rows:
            row.status, row.note = "error", f"cannot build: {_describe(error)}"
    finally:
        del model
        gc.collect()
    return rows


def _unit(output: str) -> str:
    return " (m)" if output.endswith("_m") else ""


def table_header(outputs: Sequence[str]) -> list[str]:
    columns = ["variant", "family", "params (M)", "precision"]
    for name in outputs:
        columns += [f"{name} max abs{_unit(name)}", f"{name} max rel"]
    columns += ["passed", "export s", "note"]
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def table_row(row: ParityRow, outputs: Sequence[str]) -> str:
    cells = [f"`{row.variant}`", row.family]
    cells.append(f"{row.params_m:.2f}" if row.params_m is not None else "-")
    cells.append(row.precision)
    for name in outputs:
        found = name in row.max_abs
        cells.append(f"{row.max_abs[name]:.3g}" if found else "-")
        cells.append(f"{row.max_rel[name]:.3g}" if found else "-")
    cells.append(row.status)
    cells.append(f"{row.export_s:.1f}" if row.export_s is not None else "-")
    cells.append(row.note.replace("|", "\\|"))
    return "| " + " | ".join(cells) + " |"


def preamble(head: str, fp16: bool) -> str:
    tolerances = [f"fp32 atol {FP32_TOLERANCE[0]:g} + rtol {FP32_TOLERANCE[1]:g}"]
    if fp16:
        tolerances.append(f"fp16 atol {FP16_TOLERANCE[0]:g} + rtol {FP16_TOLERANCE[1]:g}")
    return (
        f"ONNX export parity, head {head}, batch sizes {list(BATCH_SIZES)}, "
        f"{'; '.join(tolerances)} (relative to each output's largest |value|); "
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.export_parity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pattern", nargs="+", default=["*"], help="fnmatch backbone patterns")
    parser.add_argument("--head", default="gaussian")
    parser.add_argument(
        "--skip-larger-than-mparams", type=float, help="skip variants above X M parameters"
    )
    parser.add_argument("--fp16", action="store_true", help="also export and check float16")
    parser.add_argument("--out", type=Path, help="write the Markdown table to this file")
    args = parser.parse_args(argv)
    registry = get_registry()
    specs = registry.backbones(args.pattern)
    if not specs:
        raise SystemExit(f"no registered backbone matches {args.pattern}; see `rfloc models`")
    outputs = registry.head(args.head).output_names
    precisions = ["fp32", "fp16"] if args.fp16 else ["fp32"]
    lines = [preamble(args.head, args.fp16), "", *table_header(outputs)]
    print("\n".join(lines), flush=True)
    failed = False
    for spec in specs:
        for row in check_variant(spec, args.head, precisions, args.skip_larger_than_mparams):
            failed |= row.status in ("FAILED", "error")
            lines.append(table_row(row, outputs))
            print(lines[-1], flush=True)
        if args.out:  # after each variant, so a run cut short still leaves its rows
            write_text_atomic(args.out, "\n".join(lines) + "\n")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
