"""Small wrappers: the only places that speak AWS. Each takes its boto3 client as an argument."""
