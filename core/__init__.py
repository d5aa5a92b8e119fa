"""Fashion-MNIST Studio core library: data, models, training, evaluation, checkpoints."""

import os

# Idle OpenMP threads sleep instead of spinning. Spinning (OpenMP's default, ~3 ms before sleeping)
# makes a training step 10-40% faster on an otherwise idle 2-core machine, but when two other processes
# keep the cores busy (the app's server and a second training, say) a step becomes 15x slower or worse,
# while sleeping threads lose little. `python -m bench.wait_policy --busy 2` measures both. Must be set
# before torch is first imported, so it lives here; a user who sets OMP_WAIT_POLICY keeps their choice.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
