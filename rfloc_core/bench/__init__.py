"""Benchmark suites, harnesses and reports."""
