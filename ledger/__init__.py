"""The write side: aggregates, rules, the application and the integrity log (no web, no read models)."""
