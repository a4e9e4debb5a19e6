"""Conversation trend: the rule on synthetic scores, escalation, speakers, the JD seed example
(library and CLI; the HTTP doors are in tests/service/test_trend_golden.py), bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qinggan.conversation import (
    CUSTOMER_SPEAKERS,
    FEATURE_NAMES,
    TREND_LABELS,
    Escalation,
    TrendParameters,
    TrendResult,
    Turn,
    analyze_conversation,
    default_parameters,
    mood_scores,
    trend_features,
    trend_from_scores,
)
from qinggan.engine import Analyzer
from qinggan.errors import InputError
from qinggan.labels import EMOTION8_LABELS, Emotion, Trend
from tests.conftest import FIXTURES, run_cli

JD_SEED = ["货还没送到", "都说了好几天了", "到底什么时候能送到", "都仲裁N次了，没结果"]
#: JD's own sentimentSeries request (seed 001), whose documented answer is turn_bad
JD_SERIES = json.loads(
    (FIXTURES / "dialects" / "jd" / "sentimentSeries_type0.json").read_text(encoding="utf-8")
)["request"]["json"]["texts"]
#: the README's `qinggan trend --speakers` example
README_SPEAKERS = "客户：货还没送到\n客服：马上查\n客户：都仲裁N次了，没结果\n"

RISING = [-0.8, -0.5, -0.1, 0.3, 0.7, 0.9]
FALLING = [0.6, 0.3, 0.0, -0.4, -0.8, -0.9]
FLAT = [0.05, 0.0, 0.1, 0.05, 0.0, 0.05]


class StubAnalyzer(Analyzer):
    """Polarity from a fixed table: positive words up, negative words down, else neutral."""

    def __init__(self) -> None:
        super().__init__("/nonexistent")
        self.seen: list[list[str]] = []

    def probabilities(self, texts):  # type: ignore[override]
        self.seen.append(list(texts))
        rows = []
        for text in texts:
            if "好" in text or "谢谢" in text:
                rows.append([0.9, 0.05, 0.05])
            elif "差" in text or "气" in text:
                rows.append([0.05, 0.9, 0.05])
            else:
                rows.append([0.1, 0.1, 0.8])
        return np.array(rows)

    def emotion_probabilities(self, texts, classes=7):  # type: ignore[override]
        """Anger for 气, happy for 谢谢, else other (8 columns)."""
        rows = np.zeros((len(texts), len(EMOTION8_LABELS)))
        for row, text in zip(rows, texts, strict=True):
            top = (
                Emotion.ANGER
                if "气" in text
                else Emotion.HAPPY
                if "谢谢" in text
                else Emotion.OTHER
            )
            row[:] = 0.02
            row[EMOTION8_LABELS.index(top)] = 1.0 - 0.02 * (len(EMOTION8_LABELS) - 1)
        return rows


def test_conversation_rising_scores_turn_good() -> None:
    label, probabilities = trend_from_scores(RISING)
    assert label is Trend.TURN_GOOD
    assert probabilities[Trend.TURN_GOOD] == max(probabilities.values())


def test_conversation_falling_scores_turn_bad() -> None:
    assert trend_from_scores(FALLING)[0] is Trend.TURN_BAD


def test_conversation_flat_scores_keep_smooth() -> None:
    assert trend_from_scores(FLAT)[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores([0.0] * 10)[0] is Trend.KEEP_SMOOTH


@pytest.mark.parametrize(
    "scores", [RISING, FALLING, FLAT, [0.3], [-1.0, 1.0], [1.0, -1.0, 1.0], [-1.0] * 30]
)
def test_conversation_probabilities_sum_to_one(scores: list[float]) -> None:
    label, probabilities = trend_from_scores(scores)
    assert set(probabilities) == set(TREND_LABELS)
    assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert probabilities[label] == max(probabilities.values())


def test_conversation_short_keeps_smooth_unless_large_change() -> None:
    assert trend_from_scores([-0.9])[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores([0.9])[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores([0.1, -0.2])[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores([-0.8, 0.8])[0] is Trend.TURN_GOOD
    assert trend_from_scores([0.7, -0.9])[0] is Trend.TURN_BAD


def test_conversation_rule_is_mirror_symmetric_with_equal_biases() -> None:
    params = TrendParameters(
        weights=(1.0, 2.0, 0.5, 0.5), bias_good=-1.0, bias_bad=-1.0, short_tau=0.6, short_beta=5.0
    )
    _, up = trend_from_scores(RISING, parameters=params)
    _, down = trend_from_scores([-s for s in RISING], parameters=params)
    assert math.isclose(up[Trend.TURN_GOOD], down[Trend.TURN_BAD])
    assert math.isclose(up[Trend.KEEP_SMOOTH], down[Trend.KEEP_SMOOTH])


def test_conversation_features_are_length_invariant_for_a_straight_line() -> None:
    short = trend_features(np.linspace(-0.6, 0.6, 4))
    long = trend_features(np.linspace(-0.6, 0.6, 40))
    slope = FEATURE_NAMES.index("slope")
    assert math.isclose(short[slope], 1.2) and math.isclose(long[slope], 1.2)
    assert trend_features([0.4])[slope] == 0.0


def test_conversation_shipped_parameters_are_documented() -> None:
    params = default_parameters()
    assert len(params.weights) == len(FEATURE_NAMES)
    assert params.short_tau > 0


def test_conversation_mood_scores_mix_extra_term() -> None:
    polarity = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    assert np.allclose(mood_scores(polarity), [0.5, -1.0])
    assert np.allclose(mood_scores(polarity, [1.0, 1.0], extra_weight=0.5), [0.75, 0.0])
    with pytest.raises(InputError):
        mood_scores(polarity, [1.0])


def test_conversation_agent_turns_ignored_when_speakers_given() -> None:
    stub = StubAnalyzer()
    turns = [
        Turn("东西坏了，质量太差", "customer"),
        Turn("非常抱歉，我们马上处理", "agent"),
        Turn("请问多久能到", "Customer"),
        Turn("已经安排补发", "客服"),
        Turn("收到了，谢谢，挺好", "客户"),
    ]
    result = analyze_conversation(turns, stub)
    assert [t.counted for t in result.turns] == [True, False, True, False, True]
    changed = list(turns)
    changed[1] = Turn("你这人真气人，东西差就差吧", "agent")
    changed[3] = Turn("好的好的好的谢谢", "客服")
    again = analyze_conversation(changed, stub)
    assert again.label is result.label
    assert again.probabilities == result.probabilities
    assert result.label is Trend.TURN_GOOD


def test_conversation_without_speakers_counts_every_turn() -> None:
    result = analyze_conversation(["质量太差", "还行吧", "挺好的，谢谢"], StubAnalyzer())
    assert all(t.counted for t in result.turns)
    assert [t.index for t in result.turns] == [0, 1, 2]


def test_conversation_custom_customer_speakers() -> None:
    turns = [Turn("质量太差", "张三"), Turn("抱歉", "李四"), Turn("好了，谢谢", "张三")]
    result = analyze_conversation(turns, StubAnalyzer(), customer_speakers={"张三"})
    assert [t.counted for t in result.turns] == [True, False, True]
    assert "customer" in CUSTOMER_SPEAKERS and "客服" not in CUSTOMER_SPEAKERS


def test_conversation_result_to_dict_is_json() -> None:
    result = analyze_conversation([Turn("质量太差", "user"), Turn("好的", "bot")], StubAnalyzer())
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["label"] in {t.value for t in Trend}
    assert set(data["probabilities"]) == {t.value for t in Trend}
    assert data["turns"][1] == {
        "index": 1,
        "speaker": "bot",
        "text": "好的",
        "score": 0.85,
        "counted": False,
    }
    assert isinstance(result, TrendResult)


def test_conversation_jd_seed_example_turns_bad(analyzer: Analyzer) -> None:
    result = analyze_conversation(JD_SEED, analyzer)
    assert result.label is Trend.TURN_BAD
    assert all(-1.0 <= t.score <= 1.0 for t in result.turns)


def test_conversation_jd_seed_example_with_speakers(analyzer: Analyzer) -> None:
    turns = [Turn(text, "customer") for text in JD_SEED]
    turns.insert(1, Turn("亲，非常抱歉，已经帮您催促了，请耐心等待", "客服"))
    assert analyze_conversation(turns, analyzer).label is Trend.TURN_BAD


@pytest.mark.parametrize(
    ("turns", "needle"),
    [
        ([], "empty"),
        (["好的", "   "], "turn 1"),
        (["好的", "还行", ""], "turn 2"),
        (["好的", None], "turn 1"),
        ([Turn("好的"), Turn(123)], "turn 1"),  # type: ignore[arg-type]
        ([Turn("好的", speaker=5)], "turn 0"),  # type: ignore[arg-type]
        ("一句话不是列表", "list of turns"),
        ([Turn("您好", "agent"), Turn("请稍等", "客服")], "no customer turn"),
    ],
)
def test_conversation_bad_input_errors(turns: object, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        analyze_conversation(turns, StubAnalyzer())  # type: ignore[arg-type]


def test_conversation_bad_scores_error() -> None:
    with pytest.raises(InputError):
        trend_from_scores([])
    with pytest.raises(InputError, match="turn score 1"):
        trend_from_scores([0.1, float("nan"), 0.2])


ANGER_RISING = [0.05, 0.1, 0.5, 0.8]
COMPLAINTS = [-0.9, -0.8, -0.85, -0.9]


def test_conversation_escalation_when_an_unhappy_customer_grows_angry() -> None:
    assert trend_from_scores(COMPLAINTS, anger=ANGER_RISING)[0] is Trend.TURN_BAD
    # upset from start to end but no angrier: keeps smooth (as the written conversations say)
    assert trend_from_scores(COMPLAINTS, anger=[0.6, 0.5, 0.6, 0.6])[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores(COMPLAINTS)[0] is Trend.KEEP_SMOOTH  # no anger given: no term
    # angrier, but the customer ends content: no escalation
    relieved = [-0.9, -0.8, -0.2, 0.6]
    assert trend_from_scores(relieved, anger=ANGER_RISING)[0] is not Trend.TURN_BAD
    # two turns: the short rule keeps smooth on equal scores unless anger rises
    assert trend_from_scores([-0.9, -0.9], anger=[0.05, 0.1])[0] is Trend.KEEP_SMOOTH
    assert trend_from_scores([-0.9, -0.9], anger=[0.05, 0.5])[0] is Trend.TURN_BAD


def test_conversation_escalation_strength_is_graded() -> None:
    rule = Escalation(threshold=-0.3, rise_min=0.1, span=0.3)
    values = np.array(COMPLAINTS)
    strengths = [
        rule.strength(values, np.array([0.0, 0.0, 0.0, rise])) for rise in (0.05, 0.25, 0.4, 0.9)
    ]
    assert strengths == pytest.approx([0.0, 0.5, 1.0, 1.0])
    assert rule.strength(np.array([-0.9, 0.0, 0.0, -0.2]), np.array([0.0, 0, 0, 0.9])) == 0.0
    assert rule.logit(values, None, short_beta=5.0) == 0.0


def test_conversation_bad_anger_values_error() -> None:
    with pytest.raises(InputError, match="anger"):
        trend_from_scores(COMPLAINTS, anger=[0.1, 0.2])
    with pytest.raises(InputError, match="anger"):
        trend_from_scores(COMPLAINTS, anger=[0.1, 0.2, float("nan"), 0.3])
    with pytest.raises(InputError, match="anger"):
        trend_from_scores(COMPLAINTS, anger=[0.1, 0.2, 1.5, 0.3])


def test_conversation_stub_escalation_through_analyze() -> None:
    calm_then_angry = ["质量太差", "质量太差", "质量太差，气死了", "质量太差，气死我了"]
    assert analyze_conversation(calm_then_angry, StubAnalyzer()).label is Trend.TURN_BAD
    angry_throughout = ["质量太差，气", "质量太差，气", "质量太差，气死了", "质量太差，气死我了"]
    assert analyze_conversation(angry_throughout, StubAnalyzer()).label is Trend.KEEP_SMOOTH


# -- golden: JD's own example and the README's, through the library and the CLI -------------
def test_conversation_jd_series_example_turns_bad(analyzer: Analyzer) -> None:
    assert len(JD_SERIES) == 6
    result = analyze_conversation(JD_SERIES, analyzer)
    assert result.label is Trend.TURN_BAD
    assert result.probabilities[Trend.TURN_BAD] > 0.5


def test_conversation_jd_series_example_module_level() -> None:
    import qinggan

    assert qinggan.analyze_conversation(JD_SERIES).label is Trend.TURN_BAD


def test_conversation_readme_speakers_example_turns_bad(analyzer: Analyzer) -> None:
    pairs = [line.split("：", 1) for line in README_SPEAKERS.splitlines()]
    turns = [Turn(text, speaker) for speaker, text in pairs]
    result = analyze_conversation(turns, analyzer)
    assert [t.counted for t in result.turns] == [True, False, True]
    assert result.label is Trend.TURN_BAD


def test_conversation_cli_golden_examples_turn_bad() -> None:
    readme = run_cli("trend", "--speakers", "--json", stdin=README_SPEAKERS.encode("utf-8"))
    assert readme.returncode == 0, readme.stderr
    assert json.loads(readme.stdout)["label"] == "turn_bad"
    series = run_cli("trend", "--json", *JD_SERIES)
    assert series.returncode == 0, series.stderr
    assert json.loads(series.stdout)["label"] == "turn_bad"
