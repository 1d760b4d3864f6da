"""The eveai_app service (web, ROLE=web). Copied into the eveai_app image only."""
