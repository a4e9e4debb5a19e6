from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qinggan.errors import InputError
from qinggan.text import check_text, normalize
from qinggan.text.features import HashedNgrams, units
from qinggan.text.normalize import MENTION_TOKEN, URL_TOKEN


def test_text_normalize_folds_width_and_traditional() -> None:
    assert normalize("這間酒店ＡＢＣ１２３，服務很好") == "这间酒店abc123,服务很好"


def test_text_normalize_replaces_urls_and_mentions() -> None:
    out = normalize("@小明 看这个 https://example.com/a?b=1 太好了")
    assert URL_TOKEN in out and MENTION_TOKEN in out
    assert "example" not in out and "小明" not in out
    assert out.endswith("太好了")


def test_text_normalize_folds_repeated_punctuation_but_keeps_the_cue() -> None:
    assert normalize("气死我了！！！！！！") == "气死我了!!!"
    assert normalize("好吧。。。。。") == "好吧。。。"
    assert normalize("真的吗？？") == "真的吗??"


def test_text_normalize_keeps_emoticon_codes_and_emoji_as_units() -> None:
    cut = units(normalize("开心[哈哈]😀 [泪]"))
    assert "[哈哈]" in cut and "[泪]" in cut and "😀" in cut


def test_text_normalize_folds_whitespace_and_zero_width() -> None:
    assert normalize("  很\u200b好 \n\t 很好  ") == "很好 很好"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (None, "string"),
        (123, "string"),
        (b"bytes", "string"),
        ("bad \ud800 surrogate", "surrogate"),
    ],
)
def test_text_check_rejects_unusable_input(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_text(value)


@pytest.mark.parametrize("limit", [500, 512, 2048])
def test_text_byte_limit_is_a_parameter(limit: int) -> None:
    fits = "好" * (limit // 3)
    assert check_text(fits, max_bytes=limit) == fits
    with pytest.raises(InputError, match=f"limit is {limit} bytes"):
        check_text(fits + "好", max_bytes=limit)


def test_text_units_fold_numbers_and_keep_latin_words() -> None:
    assert units("iphone 12 很好") == ["iphone", "0", "很", "好"]


def test_text_features_cover_every_ngram_once() -> None:
    features = HashedNgrams(n_buckets=1 << 16, max_n=3).transform(["很好吃", "好"])
    assert features.counts_per_text().tolist() == [3 + 2 + 1, 1]
    assert features.columns.min() >= 0 and features.columns.max() < 1 << 16


def test_text_features_are_the_same_in_another_process() -> None:
    code = (
        "from qinggan.text.features import HashedNgrams\n"
        "print(HashedNgrams().transform(['房间很干净[哈哈]']).columns.tolist())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = HashedNgrams().transform(["房间很干净[哈哈]"]).columns.tolist()
    assert other.stdout.strip() == str(here)


def test_text_features_of_a_batch_equal_features_one_by_one() -> None:
    hashing = HashedNgrams(n_buckets=1 << 18)
    texts = ["房间很干净", "好", "服务也周到!!!", "质量不错abc"]
    batch = hashing.transform(texts)
    for i, text in enumerate(texts):
        single = hashing.transform([text]).columns
        assert np.array_equal(np.sort(batch.columns[batch.rows == i]), np.sort(single))
