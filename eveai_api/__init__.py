"""The eveai_api service (web, ROLE=web). Copied into the eveai_api image only."""
