"""What a project's benchmarks share (`make bench`, `make soak`, the start-up benchmark):
wrk as the load generator, real servers started and stopped, readiness measured from the
moment every worker is ready, and results printed as ratios against a baseline measured
in the same run. A project's `benchmarks/` scripts name their servers and their goals."""
