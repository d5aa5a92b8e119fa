"""The Train page's parts: the form, sweeps, resume, the live panel, job controls and the job manager."""
