"""Benchmarks of the restore (see bench/README.md). Run each as ``.venv/bin/python -m bench.<name>``."""
