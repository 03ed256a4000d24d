"""Hand-written data sets for the benchmarks."""
