"""The device of the tests that can train and evaluate on an accelerator: FMNIST_TEST_DEVICE (cpu by default).

`bash bench/gpu_check.sh` runs those tests with FMNIST_TEST_DEVICE=cuda; elsewhere they run on the CPU.
"""

import os

DEVICE = os.environ.get("FMNIST_TEST_DEVICE", "cpu")
