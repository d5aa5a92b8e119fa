"""Benchmarks: our training and inference paths against the usual torchvision way."""
