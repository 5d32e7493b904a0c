"""Monitoring (SC3): Prometheus, scrape targets, alert rules, gateway metrics, forecasts."""
