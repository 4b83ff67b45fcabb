"""The bottom layer: what every other part of maops speaks in, importing nothing of it.

`errors` (the errors that end a run with a message, and their "did you mean"), `schema`
(the tables and columns of data contract v1), `months` (months as YYYY-MM and their
bounds), `stats` (intervals) and `i18n` (report text in Japanese and English).
"""
