"""`[rpz]` in roja.toml: the fleet monitor's keys (`secondaries`, `check_interval`, `max_lag`)
are read, and a mistake is refused with the key and an example."""

from __future__ import annotations

import pytest

from blocklists.rpz_config import RpzSettings, parse
from configkit import ConfigError, Section, parse_toml_text

SERVED = 'listen = "127.0.0.1:5300"\nallow = ["192.0.2.0/24"]\n'


def rpz(text: str) -> RpzSettings:
    data, source = parse_toml_text("[rpz]\n" + text, "roja.toml")
    return parse(Section(data, "", source).section("rpz"))


def test_secondaries_and_timings_are_read() -> None:
    s = rpz(SERVED + 'secondaries = ["127.0.0.53", "127.0.0.54:5353"]\ncheck_interval = 30\n'
                     "max_lag = 120\n")
    assert s.secondaries == (("127.0.0.53", 53), ("127.0.0.54", 5353))
    assert (s.check_interval, s.max_lag) == (30.0, 120.0)


def test_defaults_watch_nothing() -> None:
    s = rpz(SERVED)
    assert s.secondaries == () and (s.check_interval, s.max_lag) == (60.0, 300.0)


@pytest.mark.parametrize(("text", "key"), [
    (SERVED + 'secondaries = ["not an address:x"]\n', "secondaries"),
    ('secondaries = ["127.0.0.53:53"]\n', "secondaries"),  # nothing served to compare with
    (SERVED + "check_interval = 0\n", "check_interval"),
    (SERVED + "max_lag = -1\n", "max_lag"),
])
def test_mistakes_are_refused_with_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        rpz(text)
    assert key in str(err.value)
