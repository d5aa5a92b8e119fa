"""The foundation every layer may import: the one-line `StudioError` family (`errors`) and the choice of
device and CPU threads (`device`), atomic file writes (`files`) and small JSON documents shared by threads and
server processes (`shared_json`). Imports nothing else from `core`.
"""
