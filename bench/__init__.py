"""Benchmarks and the synthetic data generator (see docs/PERFORMANCE.md)."""
