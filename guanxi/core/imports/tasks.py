"""Background jobs of the import engine (Huey; immediate under tests)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.core.imports.services import import_job_process, import_jobs_resume_stale


@db_task()
def import_job_task(job_id: int) -> None:
    """Run (or resume) one import job."""
    import_job_process(job_id)


@db_periodic_task(crontab(minute="*/5"))
def import_jobs_resume_stale_task() -> None:
    """Pick up jobs whose worker died: they continue after their last committed line."""
    import_jobs_resume_stale()
