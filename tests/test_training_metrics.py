from __future__ import annotations

import pytest

from qinggan.training.metrics import classification_metrics
from qinggan.training.splits import is_dev


def test_training_metrics_match_a_hand_computed_example() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    m = classification_metrics(gold, pred, labels=["a", "b", "c"])
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision_a"] == 1.0 and m["recall_a"] == pytest.approx(2 / 3)
    assert m["f1_b"] == pytest.approx(0.5)
    assert m["f1_c"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_training_metrics_count_predictions_outside_the_label_set_as_wrong() -> None:
    m = classification_metrics(["a", "b"], ["a", "z"], labels=["a", "b"])
    assert m["accuracy"] == 0.5 and m["recall_b"] == 0.0
    assert m["confusion"] == [[1, 0], [0, 0]]


def test_training_metrics_reject_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="2 items"):
        classification_metrics(["a", "b"], ["a"])


def test_training_dev_split_is_fixed_and_about_a_tenth() -> None:
    texts = [f"评论{i}" for i in range(5000)]
    share = sum(map(is_dev, texts)) / len(texts)
    assert 0.08 < share < 0.12
    assert is_dev("房间很干净，服务也周到") == is_dev("房间很干净，服务也周到")
