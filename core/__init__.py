"""Fashion-MNIST Studio core library: data, models, training, evaluation, checkpoints."""

import os

# Idle OpenMP threads sleep instead of spinning. Spinning (OpenMP's default, ~3 ms before sleeping)
# makes a training step ~1.2x faster on an otherwise idle 2-core machine, but with two trainings at once
# (the app and a command-line run, say) each step gets 2.5-3x slower, and with OpenMP's default some
# runs 10x or more; sleeping threads stay predictable (`python -m bench.wait_policy --together 2`).
# Must be set before torch is first imported, so it lives here; a user's OMP_WAIT_POLICY is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
