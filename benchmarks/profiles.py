"""Run profiles: how much data and time each mode spends. One place, documented defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Sizes and time budgets of one benchmark mode.

    Accuracy: every system is scored on the same ``eval_items`` of a dataset. When a dev split
    is larger than ``items_per_dataset`` (quick) or ``peer_cap`` (full, only when a peer is
    being run), a fixed seeded random subsample of that size is drawn. In full mode qinggan is
    additionally scored on the whole split.

    Speed: for each length bucket a fixed list of texts is drawn once; every system processes
    the same list. A fast system repeats the list until one round lasts ``round_target_s``;
    a slow system (the peers) processes only the first texts of the list, as many as fit in
    ``peer_round_cap_s`` (at least ``min_texts``), so one slow peer cannot eat the run.
    """

    name: str
    items_per_dataset: int | None  # None = whole dev split
    peer_cap: int | None  # max items per dataset when a peer runs; None = no cap
    speed_texts: dict[str, int]  # bucket -> number of texts drawn
    rounds: int  # timed rounds after one warm-up round
    round_target_s: float  # a fast system repeats the texts until a round lasts this long
    peer_round_cap_s: float  # a slow system's round is cut to about this long
    min_texts: int  # never fewer texts than this per round
    latency_max_calls: int  # single-call latency samples per bucket (at most)
    latency_budget_s: float  # ... or until this much time was spent
    load_runs: int  # fresh-subprocess load/memory probes per system (median reported)
    multiprocess: bool  # measure all-cores throughput and use a pool for slow peers' accuracy
    qinggan_full_split: bool  # also score qinggan on whole dev splits that were subsampled


QUICK = Profile(
    name="quick",
    items_per_dataset=200,
    peer_cap=200,
    speed_texts={"short": 200, "medium": 100, "long": 20},
    rounds=3,
    round_target_s=0.2,
    peer_round_cap_s=0.3,
    min_texts=5,
    latency_max_calls=300,
    latency_budget_s=0.3,
    load_runs=1,
    multiprocess=True,
    qinggan_full_split=False,
)

FULL = Profile(
    name="full",
    items_per_dataset=None,
    peer_cap=3000,
    speed_texts={"short": 2000, "medium": 1000, "long": 200},
    rounds=5,
    round_target_s=1.0,
    peer_round_cap_s=4.0,
    min_texts=20,
    latency_max_calls=2000,
    latency_budget_s=3.0,
    load_runs=3,
    multiprocess=True,
    qinggan_full_split=True,
)

PROFILES = {p.name: p for p in (QUICK, FULL)}


def with_overrides(profile: Profile, **overrides: Any) -> Profile:
    """Return ``profile`` with the non-None ``overrides`` applied."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(profile, **changes) if changes else profile
