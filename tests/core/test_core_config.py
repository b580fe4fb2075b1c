import os
import tomllib
from pathlib import Path

import pytest

from hub.config import ConfigError, load_config, parse_config, render_config, resolve_data_dir


def doc(**changes):
    d = tomllib.loads(render_config("paris-01", "Maison", "EUR"))
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            d[section][key] = value
        else:
            d[section] = value
    return d


@pytest.mark.parametrize("change, message", [
    ({"store__currency": "EUX"}, "store.currency: unknown currency “EUX”"),
    ({"store__id": "paris 01!"}, "store.id: 'paris 01!' must be 1-40 letters"),
    ({"store__colour": "gold"}, "store: unknown key 'colour'"),
    ({"registers": []}, "registers: at least one register is needed"),
    ({"sales__default_tax": "luxury"}, "sales.default_tax: 'luxury' is not a code in tax_rates"),
    ({"sales__prices_include_tax": "yes"}, "sales.prices_include_tax: must be a bool"),
    ({"gadgets": {}}, "loupe.toml: unknown key 'gadgets'"),
    ({"staff": [{"id": "anna"}]}, "remove [[staff]] from loupe.toml and enroll each person"),
])
def test_each_problem_names_the_key(change, message):
    with pytest.raises(ConfigError) as err:
        parse_config(doc(**change), Path("/tmp/x"))
    assert message in str(err.value)


def test_tax_rate_out_of_range_and_bool_for_int():
    d = doc()
    d["tax_rates"][0]["rate_bp"] = 20_001
    with pytest.raises(ConfigError, match=r"tax_rates\[0\].rate_bp: must be between 0 and 10000"):
        parse_config(d, Path("/tmp/x"))
    d["tax_rates"][0]["rate_bp"] = True
    with pytest.raises(ConfigError, match=r"tax_rates\[0\].rate_bp: must be an integer"):
        parse_config(d, Path("/tmp/x"))


def test_broken_toml_and_missing_store(tmp_path):
    with pytest.raises(ConfigError, match="run `loupe init` first"):
        load_config(tmp_path)
    (tmp_path / "loupe.toml").write_text("[store\nid=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path.resolve()
    monkeypatch.delenv("LOUPE_DATA_DIR")
    with pytest.raises(ConfigError, match="pass --data-dir or set LOUPE_DATA_DIR"):
        resolve_data_dir(None)
    assert os.environ.get("LOUPE_DATA_DIR") is None
