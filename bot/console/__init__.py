"""The staff console under /staff: login, alerts, transcripts, statistics, exports."""
