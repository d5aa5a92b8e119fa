"""The benchmark's targets: a figure and whether it passes."""

SPEEDUP_CNN = 3.0  # images/s ours / usual, simple_cnn, same batch size
SPEEDUP_MLP = 3.0  # "more for mlp": must at least beat the CNN target; the ratio is shown
WHOLE_PROCESS = 3.0  # usual-way script seconds / `python -m core.train` seconds, one epoch
QUICK_DEMO_RATIO = 2.5  # `python -m core.train` (no flags) seconds / one usual-way epoch (OpenMP defaults), at most
QUICK_DEMO_ACCURACY = 0.91  # test accuracy the quick demo must print
TIME_TO_91 = 5.0  # usual seconds / our seconds to 91% test accuracy
CLASSIFY_MS = 15.0  # p50, drawn image end to end
FEATURE_MAPS_MS = 100.0  # p50, simple_cnn and lenet5
TEST_SET_S = 2.0  # p50, simple_cnn, 10,000 images
RSS_MB = 1200.0  # app with all models loaded


def mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")
