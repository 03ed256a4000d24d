"""Evals: one prompt template over a dataset, across configurations and providers, graded.

dataset.py (rows and the {{variable}} template), config.py (configurations), graders.py,
runner.py (cells in threads: cancel, resume, rate-limit waits), stats.py, report.py
(summary, comparison, exports, history), spec.py and __main__.py (the headless command),
fine_tune.py (the classification eval the Fine-tuning page opens).
"""
