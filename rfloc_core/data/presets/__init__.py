"""Scenario presets shipped with rfloc-core, one TOML file each (``rfloc simulate --scenario``)."""
