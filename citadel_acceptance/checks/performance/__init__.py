"""Performance (SC2): rated load, streaming metrics, gateway overhead, cache and resources."""
