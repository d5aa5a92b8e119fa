"""Who may rename or delete a model on the Models page: the one place that decides it."""

from pathlib import Path

from core.library import catalog, imports, taught
from dashboard import classroom
from dashboard.train import training


def can_manage(entry: "catalog.ModelEntry") -> bool:
    """Shipped models: nobody. A run: the browser whose training job made it, or the teacher. An import or a taught
    model: the browser that imported or taught it (recorded beside the file, so it holds after a reload), or the
    teacher."""
    if entry.source == "shipped":
        return False
    if classroom.is_teacher():
        return True
    if entry.source == "run":
        mine = {
            Path(job.run_dir).resolve()
            for job in training.manager().jobs(owner=classroom.owner_secret())
            if job.run_dir
        }
        return entry.path.parent.resolve() in mine
    if entry.source == "imported":
        return imports.owner_of(entry.path) == classroom.my_digest()
    if entry.source == "taught":
        return taught.owner_of(entry.path) == classroom.my_digest()
    return False
