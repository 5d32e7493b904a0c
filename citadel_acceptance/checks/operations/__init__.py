"""Operational tools (SC4): recovery, backup and restore, configuration, keys, logs."""
