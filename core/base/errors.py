"""One exception type for everything a user can get wrong; its message is one line."""


class StudioError(Exception):
    """A problem with the user's input, data or environment, explained in one line."""


class DatasetMissing(StudioError):
    """No Fashion-MNIST files were found and none could be downloaded."""


class CheckpointError(StudioError):
    """A checkpoint file is missing, corrupt, foreign or mismatched."""


class ImageError(StudioError):
    """An uploaded or drawn image cannot be used."""
