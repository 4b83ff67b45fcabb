"""Tools beside the runtime layers: the synthetic-data generator behind `maops sample`.

Nothing a run goes through imports this package."""
