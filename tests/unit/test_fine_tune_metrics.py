"""Results files of every vintage, and metrics events, give one frame."""

from __future__ import annotations

import base64
import math

import pandas as pd
import pytest

from playground.fine_tuning.metrics import (
    COLUMNS,
    MetricsError,
    epoch_boundaries,
    from_events,
    has_classification,
    parse_results,
    smooth,
    steps_per_epoch,
    with_epochs,
)

TODAY = """step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy
1,2.5,0.25,2.75,0.2
2,1.5,0.5,,
3,0.5,0.75,0.9,0.7
"""

LEGACY = """step,elapsed_tokens,elapsed_examples,training_loss,training_sequence_accuracy,training_token_accuracy,validation_loss,validation_sequence_accuracy,validation_token_accuracy,classification/accuracy,classification/precision,classification/recall,classification/auroc,classification/auprc,classification/f1.0
1,25,1,2.5,0.0,0.25,2.75,0.0,0.2,,,,,,
2,50,2,1.5,0.0,0.5,,,,,,,,,
3,75,3,0.5,1.0,0.75,0.9,1.0,0.7,0.875,0.9,0.85,0.95,0.93,0.874
"""


def test_todays_csv_plain_and_base64_give_the_same_frame() -> None:
    plain = parse_results(TODAY)
    assert list(plain.columns) == list(COLUMNS)
    assert plain["step"].tolist() == [1, 2, 3]
    assert plain["train_loss"].tolist() == [2.5, 1.5, 0.5]
    assert plain["valid_accuracy"].iloc[0] == 0.2 and math.isnan(plain["valid_loss"].iloc[1])
    encoded = base64.b64encode(TODAY.encode())
    pd.testing.assert_frame_equal(parse_results(encoded), plain)
    pd.testing.assert_frame_equal(parse_results(encoded.decode() + "\n"), plain)
    assert not has_classification(plain)


def test_legacy_csv_with_empty_cells_and_classification_metrics() -> None:
    legacy = parse_results(LEGACY.encode())
    today = parse_results(TODAY)
    shared = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy"]
    pd.testing.assert_frame_equal(legacy[shared], today[shared])
    assert has_classification(legacy)
    assert legacy["classification_accuracy"].tolist()[2] == 0.875
    assert legacy["classification_f1"].tolist()[2] == 0.874
    assert legacy["classification_auroc"].isna().tolist() == [True, True, False]


def test_metrics_events_in_any_order_give_the_same_frame() -> None:
    events = [
        {"type": "message", "data": {}, "message": "started"},
        {"type": "metrics", "data": {"step": 3, "train_loss": 0.5, "train_mean_token_accuracy": 0.75,
                                     "valid_loss": 0.9, "valid_mean_token_accuracy": 0.7, "total_steps": 3}},
        {"type": "metrics", "data": {"step": 1, "train_loss": 2.5, "train_mean_token_accuracy": 0.25,
                                     "valid_loss": 2.75, "valid_mean_token_accuracy": 0.2, "total_steps": 3}},
        {"type": "metrics", "data": {"step": 2, "train_loss": 1.5, "train_mean_token_accuracy": 0.5, "total_steps": 3}},
    ]
    frame = from_events(events)
    shared = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy"]
    pd.testing.assert_frame_equal(frame[shared], parse_results(TODAY)[shared])
    assert from_events([]).empty and list(from_events([]).columns) == list(COLUMNS)


@pytest.mark.parametrize(
    ("content", "needle"),
    [("hello world", "neither a results CSV"), (base64.b64encode(b"a,b\n1,2\n"), "not to a results CSV"),
     ("step,foo\n1,2\n", "no metric columns")],
)
def test_unreadable_files_say_why(content: str | bytes, needle: str) -> None:
    with pytest.raises(MetricsError, match=needle):
        parse_results(content)


def test_smoothing_and_epoch_boundaries() -> None:
    values = pd.Series([1.0, float("nan"), 3.0, 5.0])
    assert smooth(values, 0).equals(values)
    smoothed = smooth(values, 0.5)
    assert math.isnan(smoothed[1]) and smoothed[0] == 1.0
    assert 3.0 < smoothed[3] < 5.0 and smoothed[2] < 3.0  # lags behind the raw values, debiased at the start
    frame = parse_results("step,train_loss\n" + "".join(f"{i},1\n" for i in range(1, 46)))
    assert epoch_boundaries(with_epochs(frame, steps_per_epoch(60, 4))) == [15, 30]
    assert epoch_boundaries(with_epochs(frame, None)) == []


def test_lttb_keeps_the_ends_and_the_spikes() -> None:
    import numpy as np

    from playground.fine_tuning.metrics import lttb

    x = np.arange(100_000, dtype=float)
    y = np.exp(-x / 20_000) + np.random.default_rng(0).normal(0, 0.01, len(x))
    y[51_234] = 9.0
    kept = lttb(x, y, 2000)
    assert len(kept) == 2000 and kept[0] == 0 and kept[-1] == len(x) - 1
    assert (np.diff(kept) > 0).all() and 51_234 in kept
    assert lttb(x[:50], y[:50], 2000).tolist() == list(range(50))
