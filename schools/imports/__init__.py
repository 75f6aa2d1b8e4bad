"""School data from the administration system: EDEXML and CSV files, and the sync."""
