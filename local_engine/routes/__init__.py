"""One module per group of endpoints. Each has a `router`, and may have `setup(engine)`,
called once at start-up (load models, resume jobs)."""
