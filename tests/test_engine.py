from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import qinggan
from qinggan import InputError, ItemError, Polarity, PolarityResult


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("房间很干净，服务也周到", Polarity.POSITIVE),
        ("质量太差了，用了两天就坏了，再也不买了", Polarity.NEGATIVE),
        ("菜太难吃了，送餐还慢", Polarity.NEGATIVE),
        ("非常满意，下次还来！", Polarity.POSITIVE),
        ("请问花呗怎么开通", Polarity.NEUTRAL),
        ("国务院召开常务会议部署经济工作", Polarity.NEUTRAL),
    ],
)
def test_engine_answers_clear_cases_sensibly(
    analyzer: qinggan.Analyzer, text: str, label: Polarity
) -> None:
    assert analyzer.analyze(text).label is label


def test_engine_result_is_frozen_with_calibrated_shape(analyzer: qinggan.Analyzer) -> None:
    result = analyzer.analyze("这家店的服务还不错")
    assert isinstance(result, PolarityResult)
    assert set(result.probabilities) == set(Polarity)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.label is max(result.probabilities, key=result.probabilities.__getitem__)
    assert 0.0 <= result.confidence <= 1.0
    with pytest.raises(AttributeError):
        result.label = Polarity.NEGATIVE  # type: ignore[misc]
    assert result.to_dict()["label"] == result.label.value


def test_engine_traditional_and_full_width_read_like_simplified(analyzer: qinggan.Analyzer) -> None:
    a = analyzer.analyze("這間酒店服務很好，房間乾淨")
    b = analyzer.analyze("这间酒店服务很好，房间干净")
    assert a.probabilities == pytest.approx(b.probabilities)


def test_engine_batch_equals_one_by_one(analyzer: qinggan.Analyzer) -> None:
    texts = [
        "好",
        "房间很干净，服务也周到",
        "太差了" * 50,
        "请问几点发货",
        "一般般吧[哈哈]",
        "😀😀",
    ]
    batch = analyzer.analyze_batch(texts)
    for text, result in zip(texts, batch, strict=True):
        single = analyzer.analyze(text)
        assert result.label is single.label
        assert result.probabilities == pytest.approx(single.probabilities, abs=1e-6)


def test_engine_is_safe_to_share_between_threads(analyzer: qinggan.Analyzer) -> None:
    texts = [f"第{i}次来了，{'很满意' if i % 2 else '很失望'}" for i in range(64)]
    expected = [r.label for r in analyzer.analyze_batch(texts)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda t: analyzer.analyze(t).label, texts))
    assert got == expected


def test_engine_loads_lazily_and_once() -> None:
    fresh = qinggan.Analyzer()
    assert fresh._polarity._loaded is None and fresh._emotion._loaded is None
    fresh.analyze("好")
    first = fresh._polarity._loaded
    fresh.analyze("不好")
    assert fresh._polarity._loaded is first and fresh._emotion._loaded is None


@pytest.mark.parametrize("bad", ["", "   ", None, 42, ["list"]])
def test_engine_rejects_bad_single_input(analyzer: qinggan.Analyzer, bad: object) -> None:
    with pytest.raises(InputError):
        analyzer.analyze(bad)  # type: ignore[arg-type]


def test_engine_batch_names_the_bad_item(analyzer: qinggan.Analyzer) -> None:
    with pytest.raises(InputError, match="item 1"):
        analyzer.analyze_batch(["好", "", "不好"])
    with pytest.raises(InputError, match="one string"):
        analyzer.analyze_batch("一个字符串")  # type: ignore[arg-type]


def test_engine_batch_reports_bad_items_and_answers_the_rest(analyzer: qinggan.Analyzer) -> None:
    out = analyzer.analyze_batch(["很好", "", "很差", 7], errors="report")  # type: ignore[list-item]
    assert isinstance(out[0], PolarityResult) and isinstance(out[2], PolarityResult)
    assert isinstance(out[1], ItemError) and out[1].index == 1 and "empty" in out[1].message
    assert isinstance(out[3], ItemError) and "string" in out[3].message
    assert out[0].label is Polarity.POSITIVE and out[2].label is Polarity.NEGATIVE


def test_engine_byte_limit_applies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    limited = qinggan.Analyzer(max_bytes=30)
    assert limited.analyze("很好").label is Polarity.POSITIVE
    with pytest.raises(InputError, match="limit is 30 bytes"):
        limited.analyze("很好" * 10)


def test_engine_missing_model_dir_is_a_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(qinggan.ModelError, match=r"no meta\.json"):
        qinggan.load(tmp_path)


def test_engine_module_functions_use_the_shipped_model() -> None:
    assert qinggan.analyze("非常好用，推荐购买").label is Polarity.POSITIVE
    assert [r.label for r in qinggan.analyze_batch(["非常好用", "垃圾产品"])] == [
        Polarity.POSITIVE,
        Polarity.NEGATIVE,
    ]
