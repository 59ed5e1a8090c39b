"""gatewaydb's benchmark: hot-path latency at realistic scale next to a raw-asyncpg floor.

Run it with ``make bench`` (``python -m bench``) or ``make bench-quick`` (tiny scale, few
samples). Modules, one job each:

- :mod:`bench.paths`: where results and the bench server's data live.
- :mod:`bench.errors`: the one error the bench raises.
- :mod:`bench.server`: the database to run against (embedded by default), migrated.
- :mod:`bench.dataset`: the data set's shape, deterministic ids and generator statements.
- :mod:`bench.datagen`: loads the data set, set-based, once per scale.
- :mod:`bench.floor`: the same SQL as gatewaydb through a default asyncpg pool.
- :mod:`bench.hotpaths`: the table of hot paths, each a (gatewaydb, floor) pair.
- :mod:`bench.harness`: interleaved timing, throughput and memory measurement.
- :mod:`bench.runner`: one run: load, then measure every hot path.
- :mod:`bench.report`: the JSON result, the comparison with the previous one, the table.
- :mod:`bench.chart`: the PNG chart.
"""
