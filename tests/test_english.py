"""English and mixed Chinese-English polarity (qinggan.text.english): the English view, the
share of English, the blend, and the shipped analyzer on examples of our own per polarity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qinggan.engine import Analyzer
from qinggan.labels import POLARITY_LABELS, Polarity
from qinggan.text.english import blend_english, english_share, english_view, vader_compound

# our own examples, none from the behavioural suite
ENGLISH = {
    Polarity.NEGATIVE: [
        "This is terrible",
        "The hotel was dirty and the staff were rude.",
        "I hate this phone, it keeps crashing",
        "Not good at all, I want a refund",
        "Awful service, the worst I have had",
    ],
    Polarity.POSITIVE: [
        "Not bad at all",
        "Excellent quality, I love it!",
        "The delivery was quick and the driver was very kind",
        "Wonderful experience, highly recommended",
        "Thanks, that solved my problem, great help",
    ],
    Polarity.NEUTRAL: [
        "What time do you close?",
        "Where is my parcel now?",
        "I ordered two boxes on Monday.",
        "Do you ship to Canada?",
        "The meeting is at three in the afternoon.",
    ],
}
MIXED = {
    Polarity.NEGATIVE: ["这个耳机的sound quality太terrible了", "客服一直不回，so annoying"],
    Polarity.POSITIVE: ["这家店的蛋糕awesome，强烈推荐", "包装很perfect，朋友很喜欢"],
    Polarity.NEUTRAL: ["请问这款支持Bluetooth吗", "我的tracking number是多少"],
}
CASES = [(text, label) for group in (ENGLISH, MIXED) for label, ts in group.items() for text in ts]


@pytest.mark.parametrize(("text", "label"), CASES)
def test_english_examples_get_a_sensible_polarity(
    analyzer: Analyzer, text: str, label: Polarity
) -> None:
    assert analyzer.analyze(text).label is label


def test_english_batch_equals_single(analyzer: Analyzer) -> None:
    texts = [text for text, _ in CASES] + ["房间很干净，服务也周到", "都仲裁N次了，没结果"]
    batch = analyzer.analyze_batch(texts)
    for text, result in zip(texts, batch, strict=True):
        single = analyzer.analyze(text)
        assert single.label is result.label
        assert single.probabilities == pytest.approx(result.probabilities, abs=1e-6)


def test_english_view_drops_han_and_carries_chinese_negation() -> None:
    assert english_view("这个design好ugly") == "design ugly"
    assert english_view("这个不是很good") == "not good"
    assert english_view("不错，very good") == "，very good"  # 不错 is no negation
    assert english_view("I didn\u2019t like it") == "I didn't like it"
    assert vader_compound("这个不是很good") < 0 < vader_compound("这个很good")


def test_english_share_counts_words_not_letters() -> None:
    assert english_share("房间很干净") == 0.0
    assert english_share("都仲裁N次了") == 0.0  # a single letter is no word
    assert english_share("What time do you close?") == 1.0
    assert english_share("质量so bad，不会回购") == pytest.approx(2 / (2 + 6 / 2))


def test_english_blend_leaves_chinese_and_silent_names_alone() -> None:
    rows = np.array([[0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.2, 0.3]])
    texts = ["太差了", "APP又登不上了", "请问可以用PayPal付款吗"]
    assert np.array_equal(blend_english(texts, rows), rows)


def test_english_blend_rows_stay_probabilities() -> None:
    rows = np.full((3, 3), 1 / 3)
    out = blend_english(["This is terrible", "Not bad at all", "What time do you close?"], rows)
    assert np.allclose(out.sum(axis=1), 1.0) and (out >= 0).all()
    top = [POLARITY_LABELS[i] for i in out.argmax(axis=1)]
    assert top == [Polarity.NEGATIVE, Polarity.POSITIVE, Polarity.NEUTRAL]
    assert np.array_equal(rows, np.full((3, 3), 1 / 3))  # the input is not changed


def test_english_import_of_qinggan_does_not_load_vader() -> None:
    code = "import sys, qinggan; print('vaderSentiment' in ' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
