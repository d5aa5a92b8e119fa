"""The foundation every layer may import: the one-line `StudioError` family (`errors`) and the choice of
device and CPU threads (`device`), and atomic file writes (`files`). Imports nothing else from `core`.
"""
