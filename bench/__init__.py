"""Benchmarks: run each with the project's Python, e.g. ``.venv/bin/python bench/flood.py``."""
