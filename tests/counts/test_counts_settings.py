"""`[counts]` in loupe.toml: the counts part runs with the store's settings; a wrong value or
an unknown key stops the hub with the key named."""

from __future__ import annotations

import pytest

from hub.config import ConfigError, load_config
from hub.counts.settings import CountSettings, count_settings
from hub.daemon import running
from hub.runtime import Options

OPTIONS = Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False)


def with_counts(config, text: str):
    path = config.data_dir / "loupe.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[counts]\n" + text, encoding="utf-8")
    return load_config(config.data_dir)


def test_defaults_and_the_stores_values(make_config):
    config = make_config()
    assert count_settings(config) == CountSettings(1.0, 0.25, 0.1)
    tuned = with_counts(config, "flush_interval_s = 2\nprogress_interval_s = 0.5\n"
                                "find_interval_s = 0.2\n")
    assert count_settings(tuned) == CountSettings(2.0, 0.5, 0.2)


@pytest.mark.parametrize(("text", "message"), [
    ("flush_interval_s = 0\n", "counts.flush_interval_s: must be seconds from 0.1 to 60"),
    ('progress_interval_s = "fast"\n', "counts.progress_interval_s: must be seconds"),
    ("find_interval_s = true\n", "counts.find_interval_s: must be seconds"),
    ("flush_every = 1\n", "counts.flush_every: unknown key"),
])
def test_a_wrong_value_or_unknown_key_is_named(make_config, text, message):
    with pytest.raises(ConfigError, match=message):
        count_settings(with_counts(make_config(), text))


async def test_the_running_hub_counts_with_the_stores_settings(make_config):
    config = with_counts(make_config(), "find_interval_s = 0.5\nflush_interval_s = 3\n")
    async with running(config, OPTIONS) as runtime:
        assert runtime.counts.settings == CountSettings(3.0, 0.25, 0.5)
    bad = with_counts(make_config("other"), "flush_interval_s = -1\n")
    with pytest.raises(ConfigError, match="counts.flush_interval_s"):
        async with running(bad, OPTIONS):
            pass
