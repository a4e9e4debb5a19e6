"""Statuses, transitions, settings and the per-message encryption."""

from __future__ import annotations

import base64

import pytest

from qinggan.errors import ConfigError
from qinggan.jobs.crypto import NotText, WrongKey, decode_blob, decrypt, encrypt, new_key, parse_key
from qinggan.jobs.model import ItemState, JobSettings, JobStatus


def test_model_job_transitions() -> None:
    assert JobStatus.RUNNING.can_become(JobStatus.DONE)
    assert JobStatus.RUNNING.can_become(JobStatus.FAILED)
    assert not JobStatus.DONE.can_become(JobStatus.RUNNING)
    assert not JobStatus.FAILED.can_become(JobStatus.DONE)
    assert JobStatus.sources(JobStatus.DONE) == (JobStatus.RUNNING,)
    assert [s.finished for s in JobStatus] == [False, True, True]


def test_model_item_transitions() -> None:
    assert ItemState.PENDING.can_become(ItemState.LEASED)
    assert ItemState.LEASED.can_become(ItemState.LEASED)  # a lease ran out: claimed again
    assert ItemState.PENDING.can_become(ItemState.ERROR)
    assert not ItemState.PENDING.can_become(ItemState.DONE)
    assert not ItemState.DONE.can_become(ItemState.LEASED)
    assert [s.open for s in ItemState] == [True, True, False, False]


def test_model_settings_from_env() -> None:
    env = {
        "QINGGAN_JOBS_DAILY_QUOTA": "5",
        "QINGGAN_JOBS_RETENTION_DAYS": "0.5",
        "QINGGAN_JOBS_IN_PROCESS_WORKER": "0",
    }
    settings = JobSettings.from_env(env)
    assert (settings.daily_quota, settings.retention_days) == (5, 0.5)
    assert settings.in_process_worker is False
    assert JobSettings.from_env(settings.to_env()) == settings
    assert JobSettings().daily_quota == 100_000 and JobSettings().retention_days == 7
    with pytest.raises(ConfigError, match="QINGGAN_JOBS_LEASE_S"):
        JobSettings.from_env({"QINGGAN_JOBS_LEASE_S": "soon"})
    with pytest.raises(ConfigError, match="QINGGAN_JOBS_BATCH_SIZE"):
        JobSettings(batch_size=0)


def test_model_crypto_round_trip_and_wrong_keys() -> None:
    key = new_key()
    stored = encrypt(key, "你好")
    assert decrypt(key, decode_blob(stored)) == "你好"
    as_hex = parse_key(key).hex()
    assert decrypt(as_hex, decode_blob(stored)) == "你好"
    urlsafe = base64.urlsafe_b64encode(parse_key(key)).decode().rstrip("=")
    assert decrypt(urlsafe, decode_blob(stored)) == "你好"
    for wrong in (new_key(), "short", "zz" * 32, ""):
        with pytest.raises(WrongKey):
            decrypt(wrong, decode_blob(stored))
    tampered = bytearray(decode_blob(stored))
    tampered[-1] ^= 1
    with pytest.raises(WrongKey):
        decrypt(key, bytes(tampered))
    with pytest.raises(ValueError):
        decode_blob("bm9wZQ==")  # too short for nonce + tag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = b"\0" * 12
    raw = AESGCM(parse_key(key)).encrypt(nonce, b"\xff\xfe", None)
    with pytest.raises(NotText):
        decrypt(key, nonce + raw)
