"""The bare PyTorch loop the bench sets beside rfloc's training rate: it really trains, it
times only the steps after warm-up, and the bench records it for the first seed only."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from rfloc_core.bench import training_rate
from rfloc_core.bench.accuracy import RunOutcome, train_model
from rfloc_core.bench.runner import run_suite, throughput_note
from rfloc_core.bench.store import CellStore
from rfloc_core.bench.training_rate import (
    bare_loop,
    bare_loop_samples_per_s,
    fresh_module,
    random_batches,
    trained_model_bare_samples_per_s,
)
from rfloc_core.errors import InvalidInputError
from rfloc_core.model import LocalizationNet
from tests.bench.toy_suite import toy_suite


def _toy_model(module: torch.nn.Module) -> LocalizationNet:
    assert isinstance(module, LocalizationNet)
    return module


def test_the_bare_loop_lowers_the_loss_and_changes_every_trained_weight(
    toy_registry: object,
) -> None:
    module = fresh_module("toynet", seed=0)
    model = _toy_model(module.model)
    (batch,) = random_batches(model, batch_size=8, count=1, seed=1)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    with torch.no_grad():
        loss_before = float(module.step_loss(batch, 0))
    rate = bare_loop(module, [batch] * 40, warmup_steps=2)
    with torch.no_grad():
        loss_after = float(module.step_loss(batch, 0))
    assert math.isfinite(rate) and rate > 0
    assert loss_after < loss_before
    unchanged = [
        name for name, p in model.named_parameters() if torch.equal(p.detach(), before[name])
    ]
    assert unchanged == []


def test_only_the_steps_after_warm_up_are_timed(
    toy_registry: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a clock that moves one second per reading, the rate is the timed samples."""
    ticks = iter(range(100))
    monkeypatch.setattr(training_rate.time, "perf_counter", lambda: float(next(ticks)))
    module = fresh_module("toynet")
    batches = random_batches(_toy_model(module.model), batch_size=3, count=5)
    assert bare_loop(module, batches, warmup_steps=2) == pytest.approx(3 * 3)


def test_batches_take_the_models_shape(toy_registry: object) -> None:
    model = _toy_model(fresh_module("toynet").model)
    batches = random_batches(model, batch_size=4, count=2, channels_last=True)
    assert len(batches) == 2
    features = batches[0]["features"]
    assert features.shape == (4, model.receivers, *model.input_size)
    assert features.is_contiguous(memory_format=torch.channels_last)
    assert not torch.equal(features, batches[1]["features"])
    assert batches[0]["online"].all() and batches[0]["position_m"].shape == (4, 2)


@pytest.mark.parametrize(
    ("channels_last", "autocast_dtype"), [(False, None), (True, None), (False, torch.bfloat16)]
)
def test_the_rate_of_a_backbone_by_name(
    toy_registry: object, channels_last: bool, autocast_dtype: torch.dtype | None
) -> None:
    rate = bare_loop_samples_per_s(
        "toynet",
        batch_size=4,
        steps=3,
        warmup_steps=1,
        channels_last=channels_last,
        autocast_dtype=autocast_dtype,
    )
    assert math.isfinite(rate) and rate > 0


def test_a_loop_with_no_timed_step_is_refused(toy_registry: object) -> None:
    module = fresh_module("toynet")
    batches = random_batches(_toy_model(module.model), batch_size=2, count=2)
    with pytest.raises(InvalidInputError, match="warmup_steps"):
        bare_loop(module, batches, warmup_steps=2)


def test_the_bare_loop_on_a_trained_run_reads_its_checkpoint_and_keeps_the_random_state(
    toy_registry: object, tmp_path: Path
) -> None:
    suite = toy_suite()
    result = train_model(
        "toynet", suite.accuracy, 0, tmp_path / "run", device=torch.device("cpu"), tracking=False
    )
    files = {path: path.read_bytes() for path in result.best_checkpoint.iterdir()}
    state = torch.get_rng_state()
    rate = trained_model_bare_samples_per_s(
        result, device=torch.device("cpu"), steps=2, warmup_steps=1
    )
    assert rate is not None and math.isfinite(rate) and rate > 0
    assert torch.equal(torch.get_rng_state(), state)
    assert {path: path.read_bytes() for path in result.best_checkpoint.iterdir()} == files
    model = result.config.model.model_copy(update={"fusion": "deepsets"})
    receiver_set = dataclasses.replace(
        result, config=result.config.model_copy(update={"model": model})
    )
    assert trained_model_bare_samples_per_s(receiver_set, device=torch.device("cpu")) is None


def test_the_bench_measures_the_bare_loop_after_the_first_seed_only(
    toy_registry: object, tmp_path: Path
) -> None:
    suite = toy_suite(backends=("torch",), seeds=(0, 1))
    out = tmp_path / "out"
    run = run_suite(suite, out, progress=False, tracking=False)
    store = CellStore(out)
    cells = [store.read(store.accuracy_path("toynet", seed)) for seed in (0, 1)]
    first, second = (RunOutcome.from_dict(cell["outcome"]) for cell in cells)
    assert first.bare_train_samples_per_s is not None and first.bare_train_samples_per_s > 0
    assert second.bare_train_samples_per_s is None
    (row,) = [r for r in run.results["accuracy"] if r["model"] == "toynet"]
    assert row["protocol"]["bare_train_samples_per_s"] == pytest.approx(
        first.bare_train_samples_per_s
    )
    markdown = (out / "report.md").read_text(encoding="utf-8")
    section = markdown.split("## Training throughput", 1)[1].split("\n## ", 1)[0]
    assert "| toynet |" in section
    assert 'id="training-throughput"' in (out / "report.html").read_text(encoding="utf-8")


def test_an_outcome_written_before_the_bare_loop_loads_and_prints_without_it() -> None:
    outcome = RunOutcome(
        model="toynet",
        family="toy",
        seed=0,
        train_seconds=1.0,
        errors_m=[1.0],
        mahalanobis2=None,
        nll=[0.5],
        crb_rmse_m=1.0,
        baseline_errors_m={},
        steps=10,
        train_samples_per_s=200.0,
        simulated_samples_per_s=1500.0,
        bare_train_samples_per_s=1234.4,
    )
    assert throughput_note(outcome) == (
        "toynet seed 0: 10 steps, data simulated at 1,500 samples/s, training at 200 "
        "samples/s, bare loop at 1,234 samples/s"
    )
    old = outcome.as_dict()
    del old["bare_train_samples_per_s"]
    loaded = RunOutcome.from_dict(old)
    assert loaded.bare_train_samples_per_s is None
    assert "bare loop" not in throughput_note(loaded)
