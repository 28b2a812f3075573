"""Mutation testing of the modules that guard people and data (``make mutate``)."""
