"""PostgreSQL as the application uses it: schema, plans, timings, pool and roles."""
