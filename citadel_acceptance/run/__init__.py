"""One run of the suite: the session, behave's hooks, skip rules and the run's test data."""
