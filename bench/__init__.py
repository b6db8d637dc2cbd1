"""Benchmarks: they measure and print, beside baselines taken in the same run; they never assert a wall time."""
