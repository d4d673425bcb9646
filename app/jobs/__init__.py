"""The job API: submit, list, follow, stop and retry jobs; their results; workers stopping their fleet."""
