"""Backups as a layer: the nightly backup of `loupe run`, and `loupe backup` / `loupe restore`.
No area of its own: what it keeps is beside the books (`<data>/backup/last.json`)."""

from __future__ import annotations

from hub.runtime import Layer

LAYER = Layer("backup", part="hub.backup.part", cli="hub.backup.cli")
