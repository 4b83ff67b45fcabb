"""The data contract: the input checked against data contract v1 into a `Dataset`.

`load.load_dataset` reads and checks a dataset folder; `rules` holds the rules, `values` how
each value is read, `dataset` the checked tables.
"""
