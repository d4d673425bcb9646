"""The embedded stack: the product on one machine, no AWS account.

A moto server in-process on loopback stands in for AWS, an instance runner boots each launched
instance by running its real user-data as a local process, and the model is served locally.
"""
