"""The `gems` command: a thin dispatcher that imports each subcommand only when it runs.

Keeping imports lazy lets `gems status` start fast and keeps the walls between rooms:
the dispatcher itself never imports flask, catboost or pysam.
"""
