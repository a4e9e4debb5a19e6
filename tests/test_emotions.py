from __future__ import annotations

import pytest

import qinggan
from qinggan import DialogueLevel1, Emotion, EmotionResult, InputError, Intensity, ItemError, Scene
from qinggan.labels import EMOTION7_LABELS, EMOTION8_LABELS, ServiceLevel2, TalkLevel2


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("周三了，怎么还没有到货啊", Emotion.ANXIETY),  # the JD seed example
        ("气死我了！客服一直不回，我要投诉！", Emotion.ANGER),
        ("谢谢你们，问题解决了，非常满意", Emotion.HAPPY),
        ("请问怎么修改收货地址", Emotion.OTHER),
        ("我的卡被盗刷了，好害怕，怎么办", Emotion.FEAR),
    ],
)
def test_emotions_answer_clear_customer_service_cases(
    analyzer: qinggan.Analyzer, text: str, label: Emotion
) -> None:
    assert analyzer.emotions(text).label is label


def test_emotions_cover_every_class_sorted_high_to_low(analyzer: qinggan.Analyzer) -> None:
    for classes, labels in ((7, EMOTION7_LABELS), (8, EMOTION8_LABELS)):
        result = analyzer.emotions("等了一个星期还没发货，到底怎么回事", classes)
        assert isinstance(result, EmotionResult)
        assert set(result.probabilities) == set(labels)
        values = list(result.probabilities.values())
        assert values == sorted(values, reverse=True)
        assert sum(values) == pytest.approx(1.0, abs=1e-6)
        assert result.label is next(iter(result.probabilities))


def test_emotions_satire_only_in_the_eight_class_answer(analyzer: qinggan.Analyzer) -> None:
    text = "你们效率可真高啊，一个星期了都没人回我，真是太棒了呢"
    assert Emotion.SATIRIC not in analyzer.emotions(text, 7).probabilities
    assert analyzer.emotions(text, 8).probabilities[Emotion.SATIRIC] > 0.0


def test_emotions_intensity_only_for_anger_and_anxiety(analyzer: qinggan.Analyzer) -> None:
    angry = analyzer.emotions("气死我了！！！你们这什么破服务，我要投诉！")
    assert angry.label is Emotion.ANGER
    assert [level.degree for level in angry.intensity] and len(angry.intensity) == 4
    assert sum(level.probability for level in angry.intensity) == pytest.approx(1.0, abs=1e-6)
    assert angry.intensity[0].degree >= Intensity.MEDIUM
    happy = analyzer.emotions("太感谢了，服务真好")
    assert happy.label is Emotion.HAPPY and happy.intensity == ()


def test_emotions_intensity_rises_with_the_wording(analyzer: qinggan.Analyzer) -> None:
    def expected_degree(text: str) -> float:
        result = analyzer.emotions(text)
        return sum(int(level.degree) * level.probability for level in result.intensity)

    assert (
        expected_degree("有点不爽")
        <= expected_degree("我很生气")
        < expected_degree("气死我了！！！投诉！")
    )


def test_emotions_batch_equals_one_by_one(analyzer: qinggan.Analyzer) -> None:
    texts = ["怎么还没到", "谢谢", "垃圾服务！", "好的"]
    for classes in (7, 8):
        batch = analyzer.emotions_batch(texts, classes)
        for text, result in zip(texts, batch, strict=True):
            single = analyzer.emotions(text, classes)
            assert result.label is single.label
            assert result.probabilities == pytest.approx(single.probabilities, abs=1e-6)


def test_emotions_bad_input_and_class_count(analyzer: qinggan.Analyzer) -> None:
    with pytest.raises(InputError, match="7 or 8"):
        analyzer.emotions("好", 6)  # type: ignore[arg-type]
    out = analyzer.emotions_batch(["好", "  "], errors="report")
    assert isinstance(out[1], ItemError) and out[1].index == 1


@pytest.mark.parametrize("scene", list(Scene))
def test_dialogue_emotion_levels_follow_the_scene(analyzer: qinggan.Analyzer, scene: Scene) -> None:
    result = analyzer.dialogue_emotion("太气人了，你们这服务也太差了吧！", scene)
    assert result.scene is scene
    assert result.level1 is DialogueLevel1.PESSIMISTIC
    expected = ServiceLevel2 if scene in (Scene.CUSTOMER_SERVICE, Scene.TASK) else TalkLevel2
    assert set(result.level2_probabilities) == {label.value for label in expected}
    assert sum(result.level2_probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert sum(result.level1_probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.level2 in {"complaining", "angry", "disgusting", "sad", "fearful"}
    assert result.replies and len(set(result.replies)) == len(result.replies)


def test_dialogue_emotion_thanks_are_thankful_with_replies(analyzer: qinggan.Analyzer) -> None:
    result = analyzer.dialogue_emotion("太感谢了，问题解决了，辛苦了", "customer_service")
    assert result.level1 is DialogueLevel1.OPTIMISTIC
    assert result.level2 == ServiceLevel2.THANKFUL.value
    again = analyzer.dialogue_emotion("太感谢了，问题解决了，辛苦了", "customer_service")
    assert again.replies == result.replies


def test_dialogue_emotion_neutral_has_no_level2_and_no_replies(analyzer: qinggan.Analyzer) -> None:
    result = analyzer.dialogue_emotion("请问你们几点下班", "customer_service")
    assert result.level1 is DialogueLevel1.NEUTRAL
    assert result.level2 is None and result.replies == ()


def test_dialogue_emotion_unknown_scene_names_the_choices(analyzer: qinggan.Analyzer) -> None:
    with pytest.raises(InputError, match="expected one of: default, talk, task, customer_service"):
        analyzer.dialogue_emotion("好", "chat")
