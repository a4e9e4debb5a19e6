from __future__ import annotations

import pytest

from qinggan.config import DEFAULT_DB_URL, Settings
from qinggan.errors import ConfigError


def test_config_defaults_and_environment() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings().db_url == DEFAULT_DB_URL == "sqlite:///qinggan.db"
    got = Settings.from_env(
        {"QINGGAN_PORT": " 9000 ", "QINGGAN_DB_URL": "postgresql://x@h/db",
         "QINGGAN_LOG_LEVEL": "DEBUG", "QINGGAN_ADMIN_KEY": "", "QINGGAN_BATCH_WAIT_MS": "0",
         "OTHER": "x"}
    )  # fmt: skip
    assert (got.port, got.db_url, got.log_level) == (9000, "postgresql://x@h/db", "debug")
    assert got.admin_key is None and got.batch_wait_ms == 0.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QINGGAN_PORT": "eighty"}, "QINGGAN_PORT='eighty': expected an integer"),
        ({"QINGGAN_PORT": "70000"}, "QINGGAN_PORT=70000: out of range"),
        ({"QINGGAN_TIMESTAMP_WINDOW_S": "nan"}, "QINGGAN_TIMESTAMP_WINDOW_S='nan'"),
        ({"QINGGAN_LOG_LEVEL": "loud"}, "QINGGAN_LOG_LEVEL='loud': expected one of"),
        ({"QINGGAN_DB_URL": "  "}, "QINGGAN_DB_URL='  ': expected a non-empty value"),
        ({"QINGGAN_MAX_BATCH": "0"}, "QINGGAN_MAX_BATCH=0: out of range"),
    ],
)
def test_config_errors_name_key_and_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert message in str(error.value)


def test_config_overrides_and_round_trip_through_env() -> None:
    base = Settings.from_env({"QINGGAN_PORT": "9000"})
    assert base.with_overrides(port=None, host="0.0.0.0").port == 9000
    assert base.with_overrides(port=1).port == 1
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        base.with_overrides(colour="red")
    custom = Settings(admin_key="k", workers=3, polarity_model="/m")
    assert Settings.from_env(custom.to_env()) == custom
