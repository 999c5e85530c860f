"""``evaluate``: a checkpoint, the classical baselines and the bound on one held-out set."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfloc_core.checkpoint import CheckpointConfig, load_checkpoint
from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.splits import Split, split_seed
from rfloc_core.data.validation import validate_config
from rfloc_core.evaluation.estimates import EvaluationSet, SampleEstimates, collect_estimates
from rfloc_core.evaluation.report import write_report
from rfloc_core.evaluation.summary import Evaluation, summarize

if TYPE_CHECKING:
    from rfloc_core.data.disk_dataset import DiskDataset


def checkpoint_scenario(
    config: CheckpointConfig, scenario: str | Path | ScenarioConfig | None
) -> ScenarioConfig:
    """The scenario the caller gives (a preset name, a TOML path or a ``ScenarioConfig``),
    else the one the checkpoint was trained on."""
    if isinstance(scenario, ScenarioConfig):
        chosen = scenario
    elif scenario is not None:
        chosen = load_scenario(scenario)
    elif config.scenario is not None:
        chosen = validate_config(
            ScenarioConfig, config.scenario, "the checkpoint's config.json field scenario"
        )
    else:
        raise ConfigError(
            "the checkpoint records no scenario; pass one with --scenario (a preset name such "
            "as vhf-rural, or a scenario TOML path)"
        )
    if config.receivers is not None and chosen.random_network is not None:
        raise ConfigError(
            f"scenario {chosen.name!r} draws a new receiver network for every sample, which "
            f"this fixed-network model ({config.receivers} receivers) cannot take; pick a "
            "scenario with a fixed network"
        )
    if config.receivers is not None and chosen.n_receivers != config.receivers:
        raise ConfigError(
            f"scenario {chosen.name!r} has {chosen.n_receivers} receivers but the model was built "
            f"for {config.receivers}; pick a scenario with {config.receivers} receivers"
        )
    return chosen


def checkpoint_features(config: CheckpointConfig) -> FeatureConfig:
    return recorded_features(config.features, config.input_size)


def recorded_features(
    features: Mapping[str, Any] | None, input_size: tuple[int, int]
) -> FeatureConfig:
    """The feature settings a checkpoint's config.json records, else the defaults at the
    model's ``input_size`` (mel_bins, frames)."""
    if features is not None:
        return validate_config(
            FeatureConfig, features, "the checkpoint's config.json field features"
        )
    mel_bins, frames = input_size
    return FeatureConfig(mel_bins=mel_bins, frames=frames)


def recorded_prior_m(config: CheckpointConfig) -> tuple[float, float] | None:
    """The training set's mean position a checkpoint records (``rfloc train`` writes it), or
    None for checkpoints that record none."""
    value = config.extra.get("train_mean_position_m")
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        return float(value[0]), float(value[1])
    return None


def evaluate_dataset(
    model: Any,
    dataset: EvaluationSet,
    *,
    batch_size: int = 256,
    device: str = "cpu",
    progress: bool = False,
    context: dict[str, Any] | None = None,
    prior_position_m: tuple[float, float] | None = None,
    assumed_gains: ScenarioConfig | None = None,
) -> tuple[Evaluation, SampleEstimates]:
    """Model and baselines on every sample of ``dataset`` (simulated, or read from disk);
    ``prior_position_m`` (the training set's mean position, m) adds the ``prior`` baseline,
    ``assumed_gains`` (``rfloc calibrate-gains``'s scenario) the gain-calibrated RSS MLE."""
    if assumed_gains is not None:
        check_same_network(assumed_gains, dataset.scenario)
    scenario = dataset.scenario
    bar: Any = nullcontext()
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
    with bar:
        label = f"evaluating on {scenario.name}"
        task = bar.add_task(label, total=len(dataset)) if progress else None
        estimates = collect_estimates(
            model,
            dataset,
            batch_size=batch_size,
            device=device,
            on_batch=(lambda n: bar.advance(task, n)) if progress else None,
            prior_position_m=prior_position_m,
            assumed_gains=assumed_gains,
        )
    return summarize(estimates, {"scenario": scenario.name} | dict(context or {})), estimates


def check_same_network(assumed: ScenarioConfig, scenario: ScenarioConfig) -> None:
    """The calibrated scenario must describe the evaluated network: the same stations at the
    same places (to a metre or so), in the same order."""
    names = [receiver.name for receiver in scenario.receivers]
    assumed_names = [receiver.name for receiver in assumed.receivers]
    places = [(r.latitude_deg, r.longitude_deg) for r in scenario.receivers]
    assumed_places = [(r.latitude_deg, r.longitude_deg) for r in assumed.receivers]
    moved = len(places) != len(assumed_places) or any(
        abs(a - b) > 1e-5
        for place, other in zip(places, assumed_places, strict=False)
        for a, b in zip(place, other, strict=True)
    )
    if scenario.random_network is not None or assumed_names != names or moved:
        raise ConfigError(
            f"the gains of scenario {assumed.name!r} (stations {', '.join(assumed_names)}) are "
            f"not for the evaluated network {scenario.name!r} (stations {', '.join(names)}); "
            "calibrate the gains on a dataset of this network"
        )


def evaluate_samples(
    model: Any,
    scenario: ScenarioConfig,
    features: FeatureConfig,
    *,
    samples: int,
    seed: int,
    split: Split = "test",
    batch_size: int = 256,
    device: str = "cpu",
    progress: bool = False,
    context: dict[str, Any] | None = None,
    prior_position_m: tuple[float, float] | None = None,
) -> tuple[Evaluation, SampleEstimates]:
    """Model and baselines on simulated samples ``0..samples-1`` of ``split`` under run seed
    ``seed``; ``prior_position_m`` (the training set's mean position, m) adds the ``prior``
    baseline."""
    if samples < 1:
        raise ConfigError(f"samples must be >= 1, got {samples}")
    dataset = SyntheticDataset(scenario, samples, split_seed(seed, split), features)
    return evaluate_dataset(
        model,
        dataset,
        batch_size=batch_size,
        device=device,
        progress=progress,
        context={"seed": seed, "split": split} | dict(context or {}),
        prior_position_m=prior_position_m,
    )


def open_test_data(
    root: str | Path, config: CheckpointConfig, samples: int | None = None
) -> DiskDataset:
    """The dataset written by ``rfloc simulate`` (or imported) in ``root``, checked against
    the checkpoint: the same features, and a receiver network the model can take."""
    from rfloc_core.data.disk_dataset import DiskDataset

    dataset = DiskDataset(root, checkpoint_features(config), count=samples)
    checkpoint_scenario(config, dataset.scenario)
    return dataset


def evaluate(
    checkpoint: str | Path,
    *,
    scenario: str | Path | ScenarioConfig | None = None,
    data: str | Path | None = None,
    samples: int | None = 1000,
    seed: int = 0,
    out_dir: str | Path | None = None,
    batch_size: int = 256,
    device: str = "cpu",
    progress: bool = False,
    gains: str | Path | ScenarioConfig | None = None,
) -> Evaluation:
    """Evaluate the checkpoint folder beside the RSS baselines and the Cramér–Rao bound, on
    ``samples`` held-out test samples of ``scenario`` (default: the one it was trained on), or
    on the first ``samples`` of the dataset folder ``data`` (all of it with ``None``); with
    ``out_dir``, write ``evaluation.json`` and the PNG plots there. ``gains`` (the scenario
    ``rfloc calibrate-gains`` wrote) adds the RSS MLE on gain-corrected readings."""
    model, config = load_checkpoint(checkpoint, map_location=device)
    assumed_gains = (
        gains if isinstance(gains, ScenarioConfig) or gains is None else (load_scenario(gains))
    )
    context: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "backbone": config.backbone,
        "head": config.head,
    }
    dataset: EvaluationSet
    if data is not None:
        if scenario is not None:
            raise ConfigError(
                "give a scenario or a dataset folder, not both: a dataset carries its own scenario"
            )
        dataset = open_test_data(data, config, samples)
        context |= {"data": str(data), "data_seed": dataset.seed}
    else:
        chosen = checkpoint_scenario(config, scenario)
        dataset = SyntheticDataset(
            chosen, samples or 1000, split_seed(seed, "test"), checkpoint_features(config)
        )
        context |= {"seed": seed, "split": "test"}
    evaluation, estimates = evaluate_dataset(
        model,
        dataset,
        batch_size=batch_size,
        device=device,
        progress=progress,
        context=context,
        prior_position_m=recorded_prior_m(config),
        assumed_gains=assumed_gains,
    )
    if out_dir is not None:
        write_report(evaluation, estimates, out_dir, label=f"{config.backbone}/{config.head}")
    return evaluation
