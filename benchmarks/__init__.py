"""Benchmark commands: ``python -m benchmarks.<name>`` from the repository root."""
