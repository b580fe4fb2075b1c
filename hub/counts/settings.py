"""The `[counts]` section of loupe.toml: how often an open count writes and tells.

    [counts]
    flush_interval_s = 1.0      # reads written to the books; a power cut loses at most this
    progress_interval_s = 0.25  # the count's loop: live progress at most this often
    find_interval_s = 0.1       # a find-a-piece gauge's updates (~10 a second)
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.config import Config


@dataclass(frozen=True)
class CountSettings:
    flush_interval_s: float = 1.0
    progress_interval_s: float = 0.25
    find_interval_s: float = 0.1


def count_settings(config: Config) -> CountSettings:
    """From the store config; a problem names `counts.<key>`, an unknown key is refused."""
    section = config.section("counts")
    default = CountSettings()
    settings = CountSettings(
        flush_interval_s=section.seconds("flush_interval_s", default.flush_interval_s, 0.1, 60),
        progress_interval_s=section.seconds("progress_interval_s",
                                            default.progress_interval_s, 0.05, 5),
        find_interval_s=section.seconds("find_interval_s", default.find_interval_s, 0.02, 2))
    section.done()
    return settings
