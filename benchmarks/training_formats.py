"""Training throughput on this CPU in three forms: as trained today (float32, contiguous),
channels-last memory format, and bfloat16 autocast.

``python -m benchmarks.training_formats [--backbones convnext_atto,resnet18] [--batch 32]
[--steps 12] [--rounds 5]``

Each form runs the bench's bare loop (``rfloc_core.bench.training_rate.bare_loop``: forward,
head NLL, backward, AdamW step on batches in memory) on a fresh model. Rounds alternate the
forms, so drift in the machine's speed hits all of them; the medians and each form's ratio to
float32 are printed, with the CPUs other processes kept busy. A form is worth adopting only
if it is faster here; bfloat16 would then also need its accuracy checked, since it rounds
activations to 8 mantissa bits.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from rfloc_core.bench.contention import OtherProcessesMeter
from rfloc_core.bench.training_rate import bare_loop_samples_per_s

FORMS: dict[str, dict[str, object]] = {
    "float32": {},
    "channels-last": {"channels_last": True},
    "bf16 autocast": {"autocast_dtype": torch.bfloat16},
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.training_formats",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backbones",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=["convnext_atto", "resnet18", "efficientnet_b0"],
    )
    parser.add_argument("--batch", type=int, default=32, help="samples per step")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    supported = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    print(
        f"{torch.get_num_threads()} threads; this CPU's bfloat16 kernels: "
        f"{'native' if supported else 'emulated'}"
    )
    print("| model | form | samples/s | ratio to float32 | others' CPUs |")
    print("|---|---|---|---|---|")
    for backbone in args.backbones:
        rates: dict[str, list[float]] = {form: [] for form in FORMS}
        with OtherProcessesMeter() as others:
            for _ in range(args.rounds):
                for form, options in FORMS.items():
                    rates[form].append(
                        bare_loop_samples_per_s(
                            backbone,
                            batch_size=args.batch,
                            steps=args.steps,
                            warmup_steps=args.warmup,
                            **options,  # type: ignore[arg-type]
                        )
                    )
        reference = statistics.median(rates["float32"])
        busy = "—" if others.other_cpus is None else f"{others.other_cpus:.2f}"
        for form, values in rates.items():
            median = statistics.median(values)
            print(f"| {backbone} | {form} | {median:.1f} | {median / reference:.3f} | {busy} |")


if __name__ == "__main__":
    main()
