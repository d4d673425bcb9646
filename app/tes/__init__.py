"""GA4GH Task Execution Service (TES) v1.1 facade over the gems job service."""
