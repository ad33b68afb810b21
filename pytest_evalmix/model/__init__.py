"""The data model: record, manifest and result formats, the policy, findings. No file I/O.

Importing this package costs nothing; its modules pull in pydantic only when used.
"""
