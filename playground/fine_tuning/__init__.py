"""Fine-tuning: data checks (validate), metrics parsing (metrics), SDK helpers (jobs)."""
