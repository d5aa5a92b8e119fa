"""The shared server's side of training: the background job queue, the job list on disk, who owns what
(owner secrets, the teacher's key) and the limits a student's request must keep; the class together: the
Challenge round (`challenge`), nicknames and the teacher's view of every student's work (`class_board`).

May import everything below it (`core.base`, `core.data`, `core.models`, `core.io`, `core.analysis`,
`core.training`, `core.library`).
"""
