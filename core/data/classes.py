"""Fashion-MNIST's classes and the pixel statistics every model is normalised with."""

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 28
# Mean and standard deviation of the 60,000 training pixels scaled to [0, 1].
MEAN = 0.2860
STD = 0.3530
