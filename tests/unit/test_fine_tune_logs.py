"""Training logs of other trainers load into the metrics frame: trainer_state.json, TensorBoard
event files written by tensorboardX (the writer Hugging Face's TensorBoard callback falls back
to), W&B CSV exports; a folder is searched; the checkpoint advisor; the forecast."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from playground.fine_tuning import logs
from playground.fine_tuning.advisor import advise
from playground.fine_tuning.forecast import Pace, auto_batch_size, eta, forecast, job_pace
from playground.fine_tuning.logs import Checkpoint, find_logs, from_content, load_path
from playground.fine_tuning.metrics import MetricsError, epoch_boundaries, smooth, to_frame

STEPS_PER_EPOCH = 50


def hf_log_history(steps: int = 150, logging_steps: int = 10, eval_steps: int = 50) -> list[dict]:
    """log_history as transformers.Trainer writes it: a training entry every logging_steps,
    an evaluation entry every eval_steps, and the run's summary last."""
    history = []
    for step in range(logging_steps, steps + 1, logging_steps):
        history.append({"epoch": round(step / STEPS_PER_EPOCH, 4), "grad_norm": 1.5 / step ** 0.5,
                        "learning_rate": 5e-5 * (1 - step / steps), "loss": round(2.0 / (1 + step / 40), 4),
                        "num_input_tokens_seen": step * 512, "step": step})
        if step % eval_steps == 0:
            history.append({"epoch": round(step / STEPS_PER_EPOCH, 4), "eval_loss": 1.5 - step / 1000,
                            "eval_runtime": 1.2, "eval_samples_per_second": 80.0, "eval_steps_per_second": 10.0,
                            "step": step})
    history.append({"epoch": steps / STEPS_PER_EPOCH, "step": steps, "total_flos": 1.2e12, "train_loss": 0.9,
                    "train_runtime": 60.0, "train_samples_per_second": 20.0, "train_steps_per_second": 2.5})
    return history


def trainer_state(steps: int = 150, **extra) -> dict:
    """The documented TrainerState fields (transformers.trainer_callback.TrainerState)."""
    return {
        "best_global_step": 150, "best_metric": 1.35, "best_model_checkpoint": "out/checkpoint-150",
        "epoch": steps / STEPS_PER_EPOCH, "eval_steps": 50, "global_step": steps, "is_hyper_param_search": False,
        "is_local_process_zero": True, "is_world_process_zero": True, "log_history": hf_log_history(steps),
        "logging_steps": 10, "max_steps": 150, "num_input_tokens_seen": steps * 512, "num_train_epochs": 3,
        "save_steps": 50, "stateful_callbacks": {}, "total_flos": 1.2e12, "train_batch_size": 8,
        "trial_name": None, "trial_params": None, **extra,
    }


def write_tensorboard(folder: Path, steps: int = 150) -> None:
    """Tags as transformers' TensorBoardCallback writes them (train/..., eval/...)."""
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(folder))
    for entry in hf_log_history(steps)[:-1]:
        for key, value in entry.items():
            if key != "step":
                tag = f"eval/{key.removeprefix('eval_')}" if key.startswith("eval_") else f"train/{key}"
                writer.add_scalar(tag, value, entry["step"])
    writer.close()


def test_trainer_state_json_loads_with_eval_as_the_whole_set_loss(tmp_path: Path) -> None:
    run = from_content(json.dumps(trainer_state()).encode(), "trainer_state.json")[0]
    frame = run.frame
    assert run.source == "trainer_state"
    assert frame["step"].tolist() == list(range(10, 151, 10))
    assert frame.loc[frame["step"] == 20, "train_loss"].item() == pytest.approx(2.0 / 1.5, abs=1e-4)
    assert frame["full_valid_loss"].dropna().tolist() == pytest.approx([1.45, 1.4, 1.35])
    assert frame["valid_loss"].isna().all()  # eval_loss is not a batch loss
    assert frame.loc[frame["step"] == 150, "train_loss"].item() != 0.9  # the run summary is left out
    assert frame["tokens"].iloc[-1] == 150 * 512 and frame["epoch"].iloc[-1] == 3.0
    assert frame["learning_rate"].notna().all() and frame["grad_norm"].notna().all()
    assert epoch_boundaries(frame) == [50.0, 100.0]
    assert epoch_boundaries(frame, "tokens") == [50 * 512, 100 * 512]
    assert "out/checkpoint-150" in run.notes[0]


def test_tensorboard_event_files_written_by_tensorboardx(tmp_path: Path) -> None:
    write_tensorboard(tmp_path / "runs" / "Nov26_10-00-00_host")
    ((kind, folder),) = find_logs(tmp_path)
    assert kind == "tensorboard"
    tb = logs.from_tensorboard(folder).frame
    state = from_content(json.dumps(trainer_state()).encode(), "trainer_state.json")[0].frame
    for column in ("step", "train_loss", "full_valid_loss", "epoch", "tokens", "learning_rate"):
        np.testing.assert_allclose(tb[column].to_numpy(float), state[column].to_numpy(float), rtol=1e-6, equal_nan=True)
    event_file = next(folder.iterdir())
    uploaded = from_content(event_file.read_bytes(), event_file.name)[0]
    assert uploaded.frame["train_loss"].notna().sum() == 15


def test_a_tensorboard_file_without_training_metrics_says_what_it_has(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_scalar("reward/mean", 1.0, 1)
    runs, problems = load_path(tmp_path)
    assert not runs and "reward/mean" in problems[0]


def test_wandb_history_and_panel_exports() -> None:
    history = pd.DataFrame([{"_step": i, "_runtime": i * 2.0, "train/global_step": 10 * (i + 1),
                             "train/loss": 2.0 - i / 10, "train/learning_rate": 1e-4, "train/epoch": (i + 1) / 5,
                             "eval/loss": 1.8 - i / 20 if i % 2 else None} for i in range(10)])
    (run,) = from_content(history.to_csv(index=False).encode(), "wandb_export.csv")
    assert run.source == "wandb" and run.frame["step"].tolist() == list(range(10, 101, 10))
    assert run.frame["full_valid_loss"].notna().sum() == 5 and run.frame["epoch"].iloc[-1] == 2.0
    panel = "Step,alpha - train/loss,alpha - train/loss__MIN,alpha - train/loss__MAX,beta - train/loss\n" \
            "1,2.0,2.0,2.0,3.0\n2,1.5,1.5,1.5,2.5\n"
    runs = from_content(panel.encode(), "panel.csv")
    assert [r.label for r in runs] == ["alpha", "beta"]
    assert runs[1].frame["train_loss"].tolist() == [3.0, 2.5]
    with pytest.raises(MetricsError, match="no step column"):
        from_content(b"a,b\n1,2\n", "x.csv")


def test_a_folder_finds_the_newest_trainer_state_and_the_checkpoints(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for step in (50, 100):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        (out / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(trainer_state(step)))
    runs, problems = load_path(tmp_path)
    assert not problems and len(runs) == 1
    assert runs[0].frame["step"].max() == 100
    assert [c.step for c in runs[0].checkpoints] == [50, 100]
    (out / "checkpoint-150").mkdir()
    (out / "checkpoint-150" / "trainer_state.json").write_text(json.dumps(trainer_state(150)))
    assert load_path(tmp_path)[0][0].frame["step"].max() == 150
    # Caught while the trainer writes it: the last good reading stays.
    (out / "checkpoint-150" / "trainer_state.json").write_text('{"log_history": [')
    runs, problems = load_path(tmp_path)
    assert runs[0].frame["step"].max() == 150 and not problems
    assert "no such file" in load_path(tmp_path / "missing")[1][0]


def test_smoothing_is_tensorboards_debiased_ema() -> None:
    values = pd.Series(np.random.default_rng(1).normal(1.0, 0.3, 50))
    weight, last, expected = 0.9, 0.0, []
    for i, value in enumerate(values, start=1):  # TensorBoard's smoothing, as its scalar dashboard does it
        last = last * weight + (1 - weight) * value
        expected.append(last / (1 - weight ** i))
    np.testing.assert_allclose(smooth(values, weight), expected)


def overfitting_log() -> pd.DataFrame:
    """Training loss falls all along; full validation loss falls to step 300, then rises."""
    steps = np.arange(10, 601, 10)
    train = 2.0 * np.exp(-steps / 200) + 0.05
    rows = [{"step": s, "loss": t} for s, t in zip(steps, train)]
    for s in range(50, 601, 50):
        rows.append({"step": s, "eval_loss": 1.0 + ((s - 300) / 300) ** 2 * (0.3 if s > 300 else 0.5)})
    return to_frame(pd.DataFrame(rows))


def test_the_advisor_flags_overfitting_at_the_right_step_and_names_the_best_checkpoint() -> None:
    frame = overfitting_log()
    checkpoints = [Checkpoint(s, f"out/checkpoint-{s}") for s in range(100, 601, 100)]
    advice = advise(frame, checkpoints)
    assert advice.series == "full_valid_loss"
    assert advice.best_step == 300 and advice.best_loss == pytest.approx(1.0)
    assert advice.best_checkpoint.name == "out/checkpoint-300"
    assert advice.overfitting.step == 300 and advice.overfitting.end_step == 600
    assert "overfits from step 300" in str(advice.overfitting)
    # A run that keeps improving is not flagged; checkpoints with their own metric are ranked by it.
    healthy = to_frame(pd.DataFrame({"step": [1, 2, 3], "train_loss": [3, 2, 1], "full_valid_loss": [3, 2.5, 2.4]}))
    advice = advise(healthy, [Checkpoint(2, "ckpt-2", "m:ckpt-2", 2.5), Checkpoint(3, "ckpt-3", "m:ckpt-3", 2.4)])
    assert advice.overfitting is None and advice.best_checkpoint.model == "m:ckpt-3"
    assert advise(to_frame(pd.DataFrame({"step": [1], "train_loss": [1.0]}))).series is None


def test_forecast_tokens_cost_steps_and_pace() -> None:
    assert auto_batch_size(60) == 1 and auto_batch_size(1000) == 2 and auto_batch_size(10**6) == 256
    job = {"id": "ftjob-1", "status": "succeeded", "created_at": 100, "finished_at": 160}
    events = [{"message": "Fine-tuning job started: 60 sequences", "created_at": 110, "type": "message"},
              {"type": "metrics", "data": {"step": 1, "total_steps": 50}, "created_at": 111, "message": "Step 1/50"},
              {"type": "metrics", "data": {"step": 50, "total_steps": 50}, "created_at": 160, "message": "Step 50/50"}]
    pace = job_pace(job, events)
    assert pace == Pace("ftjob-1", 50, 10, 1.0)  # 10 s before the first step, then 1 s a step
    result = forecast(examples=60, tokens_per_epoch=1000, epochs=3, batch_size=4, price_per_million=8.0,
                      paces=[pace])
    assert result.training_tokens == 3000 and math.isclose(result.cost, 0.024)
    assert result.steps == 45 and result.seconds == 10 + 45
    assert forecast(examples=60, tokens_per_epoch=1, epochs=1, batch_size=None, price_per_million=None,
                    paces=[]).seconds is None
    running = {"id": "ftjob-2", "status": "running", "estimated_finish": None}
    assert eta(running, [events[0], {"type": "metrics", "data": {"step": 10, "total_steps": 50}}], now=130) == 80
    assert eta({**running, "estimated_finish": 200}, [], now=150) == 50
