"""Use-case services: each takes ids/values, owns one transaction through a unit of work."""
