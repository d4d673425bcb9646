"""gems' small core: states, tag codec, job records, configuration, errors and AWS wrappers.

This package must stay importable on Lambda: it never imports flask, catboost or pysam.
"""

__version__ = "0.1.0"
