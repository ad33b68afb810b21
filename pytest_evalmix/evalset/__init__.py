"""From a manifest to an `EvalSet`: the manifest, its sources, their records, and validation into
findings.
"""
