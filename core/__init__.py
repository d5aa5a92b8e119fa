"""Fashion-MNIST Studio core library: data, models, training, evaluation, checkpoints."""
