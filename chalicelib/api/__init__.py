"""HTTP: one Blueprint per area. Handlers parse, call a service, and map errors; nothing else."""
