"""The eveai_workers service (ROLE=worker, and ROLE=beat from the same image). Copied into the eveai_workers image only."""
