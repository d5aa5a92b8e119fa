"""Fashion-MNIST Studio core library: data, models, training, evaluation, checkpoints."""

import os

# Idle OpenMP threads sleep instead of spinning. With spinning (the default) a 2-core machine that
# runs anything beside training (the app's server, a second process) makes small tensor ops up to
# 100x slower. Must be set before torch is first imported, so it lives here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
