"""The library of runs: the models a user can pick (catalog), imported checkpoints, experiments (the runs of
one sweep), runs side by side (compare), runs the teacher pinned for everyone (pins) and a checkpoint's recipe
and results in words (model_info).

May import `core.base`, `core.data`, `core.models`, `core.io`, `core.analysis` and `core.training`; nothing
from `core.serving`.
"""
