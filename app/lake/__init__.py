"""GET /lake/...: the canned cohort questions over the data lake."""
