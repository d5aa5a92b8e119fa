"""The command lines behind `python -m core.train`, `core.sweep`, `core.evaluate`, `core.predict`, `core.export`,
`core.explain`, `core.embed`, `core.labels`, `core.conv` and `core.featurevis`: argument parsing and printing only; the work is done by the
library. May import every other part of `core`.
"""
