"""Aspect-level opinions through the library API (the shipped model), the category lexicon and
the evaluation functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qinggan
from qinggan import AspectOpinion, AspectPolarityResult, AspectResult, InputError, ItemError
from qinggan.absa.categories import CategoryLexicon
from qinggan.absa.chars import fold, pieces
from qinggan.errors import ConfigError, DataError
from qinggan.labels import ASPECT_CATEGORIES, Polarity
from qinggan.training.aspects_eval import (
    evaluate_aspect_polarity,
    evaluate_aspects,
    score_polarities,
    score_triplets,
)

REVIEWS = [
    "菜很好吃，但是服务太慢了",
    "环境不错，价格有点贵",
    "房间很干净，前台态度很差",
    "今天下雨了",
    "牛肉一般般，位置很好找，服务员很热情，下次还会再来。" * 12,  # longer than one piece
]


def _check_spans(result: AspectResult) -> None:
    for o in result.opinions:
        assert result.text[o.opinion_span[0] : o.opinion_span[1]] == o.opinion
        if o.aspect is None:
            assert o.aspect_span is None
        else:
            assert o.aspect_span is not None
            assert result.text[o.aspect_span[0] : o.aspect_span[1]] == o.aspect


def test_aspects_finds_praise_and_complaint(analyzer: qinggan.Analyzer) -> None:
    result = analyzer.aspects("菜很好吃，但是服务太慢了")
    assert isinstance(result, AspectResult)
    _check_spans(result)
    by_aspect = {o.aspect: o for o in result.opinions}
    assert by_aspect["菜"].polarity is Polarity.POSITIVE
    assert by_aspect["菜"].category == "food"
    assert by_aspect["服务"].polarity is Polarity.NEGATIVE
    assert by_aspect["服务"].category == "service"
    for o in result.opinions:
        assert isinstance(o, AspectOpinion)
        assert set(o.probabilities) == set(Polarity)
        assert sum(o.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert o.polarity is max(o.probabilities, key=o.probabilities.__getitem__)
        assert 0.0 <= o.confidence <= 1.0
    with pytest.raises(AttributeError):
        result.opinions = ()  # type: ignore[misc]


def test_aspects_to_dict_matches_the_contract(analyzer: qinggan.Analyzer) -> None:
    data = analyzer.aspects("菜很好吃，但是服务太慢了").to_dict()
    assert list(data) == ["text", "opinions"]
    first = data["opinions"][0]
    assert list(first) == [
        "aspect",
        "aspect_span",
        "opinion",
        "opinion_span",
        "polarity",
        "confidence",
        "probabilities",
        "category",
    ]
    assert isinstance(first["opinion_span"], list)
    assert first["polarity"] in {"positive", "negative", "neutral"}
    json.dumps(data, ensure_ascii=False)


def test_aspects_batch_equals_one_by_one(analyzer: qinggan.Analyzer) -> None:
    batch = analyzer.aspects_batch(REVIEWS)
    assert len(batch) == len(REVIEWS)
    for text, result in zip(REVIEWS, batch, strict=True):
        single = analyzer.aspects(text)
        _check_spans(result)
        assert result.text == text
        assert [
            (o.aspect_span, o.opinion_span, o.polarity, o.category) for o in result.opinions
        ] == [(o.aspect_span, o.opinion_span, o.polarity, o.category) for o in single.opinions]
        for a, b in zip(result.opinions, single.opinions, strict=True):
            assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)
    # the long review is cut into pieces, and its spans still point into the whole text
    assert any(o.opinion_span[0] > 200 for o in batch[-1].opinions)


def test_aspects_spans_refer_to_the_original_full_width_and_traditional_text(
    analyzer: qinggan.Analyzer,
) -> None:
    plain = analyzer.aspects("菜很好吃，但是服务太慢了，价格100元")
    for variant in (
        "菜很好吃，但是服務太慢了，價格１００元",
        "  菜很好吃，但是服务太慢了，价格100元",
    ):
        result = analyzer.aspects(variant)
        _check_spans(result)
        shift = len(variant) - len(variant.lstrip())
        assert [(o.opinion_span, o.polarity) for o in result.opinions] == [
            ((o.opinion_span[0] + shift, o.opinion_span[1] + shift), o.polarity)
            for o in plain.opinions
        ]
    traditional = analyzer.aspects("菜很好吃，但是服務太慢了")
    assert "服務" in {o.aspect for o in traditional.opinions}


def test_aspects_no_opinion_is_an_empty_result(analyzer: qinggan.Analyzer) -> None:
    for text in ("今天下雨了", "。", "12345"):
        result = analyzer.aspects(text)
        assert result == AspectResult(text, ())
        assert result.to_dict() == {"text": text, "opinions": []}


def test_aspects_bad_input_raises_like_analyze(analyzer: qinggan.Analyzer) -> None:
    for bad in ("", "   ", None, 7, "a\ud800b"):
        with pytest.raises(InputError):
            analyzer.aspects(bad)  # type: ignore[arg-type]
        with pytest.raises(InputError):
            analyzer.aspect_polarity(bad, "屏幕")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="limit"):
        qinggan.Analyzer(max_bytes=10).aspects("菜很好吃，但是服务太慢了")
    with pytest.raises(InputError, match="item 1"):
        analyzer.aspects_batch(["菜很好吃", "", "服务太慢"])
    with pytest.raises(InputError, match="one string"):
        analyzer.aspects_batch("菜很好吃")  # type: ignore[arg-type]
    reported = analyzer.aspects_batch(["菜很好吃", "", "服务太慢"], errors="report")
    assert isinstance(reported[1], ItemError) and reported[1].index == 1
    assert isinstance(reported[0], AspectResult) and isinstance(reported[2], AspectResult)
    with pytest.raises(InputError, match="aspect"):
        analyzer.aspect_polarity("屏幕很清晰", "")
    with pytest.raises(InputError, match="pair"):
        analyzer.aspect_polarity_batch(("屏幕很清晰", "屏幕"))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="item 1"):
        analyzer.aspect_polarity_batch([("屏幕很清晰", "屏幕"), ("屏幕很清晰",)])  # type: ignore[list-item]


def test_aspect_polarity_of_named_aspects(analyzer: qinggan.Analyzer) -> None:
    text = "屏幕很清晰，但是电池太不耐用了"
    screen = analyzer.aspect_polarity(text, "屏幕")
    battery = analyzer.aspect_polarity(text, "电池")
    assert isinstance(screen, AspectPolarityResult)
    assert screen.aspect_span == (0, 2) and screen.label is Polarity.POSITIVE
    assert battery.aspect_span == (8, 10) and battery.label is Polarity.NEGATIVE
    assert sum(battery.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert battery.to_dict()["aspect_span"] == [8, 10]
    # folded alike: a traditional, full-width aspect is found in a simplified text and vice versa
    assert analyzer.aspect_polarity(text, "電池").aspect_span == (8, 10)
    assert analyzer.aspect_polarity("屏幕很清晰，但是電池太不耐用了", "电池").aspect_span == (8, 10)
    # an aspect the text does not name: no span, the text as a whole is judged
    missing = analyzer.aspect_polarity("太差了，用两天就坏了", "屏幕")
    assert missing.aspect_span is None and missing.label is Polarity.NEGATIVE
    pairs = [(text, "屏幕"), (text, "电池"), ("外观漂亮", "外观")]
    batch = analyzer.aspect_polarity_batch(pairs)
    for (t, a), result in zip(pairs, batch, strict=True):
        single = analyzer.aspect_polarity(t, a)
        assert result.label is single.label and result.aspect_span == single.aspect_span
        assert result.probabilities == pytest.approx(single.probabilities, abs=1e-5)


def test_aspects_module_level_functions() -> None:
    assert qinggan.aspects("菜很好吃").text == "菜很好吃"
    assert len(qinggan.aspects_batch(["菜很好吃", "服务太慢"])) == 2
    assert qinggan.aspect_polarity("屏幕很清晰", "屏幕").aspect_span == (0, 2)
    assert len(qinggan.aspect_polarity_batch([("屏幕很清晰", "屏幕")])) == 1


def test_aspects_fold_keeps_every_offset() -> None:
    for text in ("這間酒店ＡＢＣ１２３服務很好", "a\u200bb  c", "①②Ⅻ㎏", "İstanbul 很好"):
        assert len(fold(text)) == len(text)
    assert fold("這間服務ＡＢＣ１２") == "这间服务abc00"
    assert pieces("a" * 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert pieces("好吃，好吃，好吃，好吃", 7) == [(0, 6), (6, 11)]


def test_aspects_categories_shipped_and_user_extended(tmp_path: Path) -> None:
    shipped = CategoryLexicon.shipped()
    assert set(shipped.categories) <= set(ASPECT_CATEGORIES)
    assert shipped.assign("上菜速度", "慢") == "service"  # longest keyword wins over 菜
    assert shipped.assign("界面", "好看") == "screen"
    assert shipped.assign(None, "很好吃") == "food"  # implicit aspect: from the opinion
    assert shipped.assign("這家店", "太貴了") == "price"  # no aspect keyword: the opinion's
    assert shipped.assign("这里", "还行") is None
    mine = CategoryLexicon.shipped({"续航": "endurance", "这里": "place"})
    assert mine.assign("续航", "很长") == "endurance" and mine.assign("这里", "还行") == "place"
    path = tmp_path / "mine.tsv"
    path.write_text("keyword\tcategory\tmatch\n锅包肉\tdish\n好评\tverdict\topinion\n", "utf-8")
    lexicon = CategoryLexicon.shipped(path)
    assert (
        lexicon.assign("锅包肉", "好") == "dish" and lexicon.assign(None, "五星好评") == "verdict"
    )
    analyzer = qinggan.Analyzer(aspect_categories={"菜": "dish"})
    assert {o.category for o in analyzer.aspects("菜很好吃").opinions} <= {"dish"}
    path.write_text("only-one-column\n", "utf-8")
    with pytest.raises(ConfigError, match=r"mine\.tsv:1"):
        qinggan.Analyzer(aspect_categories=path)
    with pytest.raises(ConfigError):
        qinggan.Analyzer(aspect_categories=tmp_path / "missing.tsv")


def test_aspects_eval_scores_known_answers() -> None:
    gold = [
        [((0, 1), (1, 4), "positive"), ((7, 9), (9, 12), "negative")],
        [(None, (0, 3), "positive")],
    ]
    predicted = [
        # right aspect and opinion, wrong polarity; one right triplet
        [((0, 1), (1, 4), "negative"), ((7, 9), (9, 12), "negative")],
        # implicit aspect found, plus a wrong extra pair with an aspect
        [(None, (0, 3), "positive"), ((5, 6), (0, 3), "positive")],
    ]
    scores = score_triplets(gold, predicted)
    assert scores["n"] == 2 and scores["n_triplets"] == 3 and scores["n_predicted"] == 4
    assert scores["triplet_precision"] == pytest.approx(2 / 4)
    assert scores["triplet_recall"] == pytest.approx(2 / 3)
    assert scores["triplet_f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores["pair_precision"] == pytest.approx(3 / 4) and scores["pair_recall"] == 1.0
    assert scores["aspect_precision"] == pytest.approx(2 / 3) and scores["aspect_recall"] == 1.0
    assert scores["opinion_f1"] == 1.0
    assert score_triplets([[]], [[]])["triplet_f1"] == 0.0
    polar = score_polarities(
        ["positive", "negative", "neutral", "positive"],
        ["positive", "negative", "positive", "positive"],
    )
    assert polar["accuracy"] == 0.75 and polar["n"] == 4
    assert polar["f1_neutral"] == 0.0 and polar["f1_negative"] == 1.0
    assert polar["macro_f1"] == pytest.approx((0.8 + 1.0 + 0.0) / 3)


def test_aspects_evaluate_files(analyzer: qinggan.Analyzer, fixtures: Path, tmp_path: Path) -> None:
    scores = evaluate_aspects(fixtures / "aspects_tiny.jsonl", analyzer)
    assert scores["n"] == 6 and scores["n_triplets"] == 9
    assert 0.0 <= scores["triplet_f1"] <= scores["pair_f1"] + 1e-9 <= 1.0 + 1e-9
    polar = evaluate_aspect_polarity(fixtures / "aspects_tiny_apc.jsonl", analyzer)
    assert polar["n"] == 6 and polar["n_sentences"] == 4 and polar["n_not_found"] == 0
    assert 0.0 <= polar["macro_f1"] <= 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "好", "triplets": []}\n'
        '{"text": "好", "triplets": [{"opinion_span": [0, 5], "polarity": "positive"}]}\n',
        "utf-8",
    )
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        evaluate_aspects(bad, analyzer)
    with pytest.raises(DataError, match="row 0"):
        evaluate_aspect_polarity([{"text": "好", "aspects": []}], analyzer)
