"""Benchmarks of issue 5: our training and inference paths against the usual torchvision way."""
