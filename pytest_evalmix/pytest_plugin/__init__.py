"""The pytest layer, the only code that imports pytest: thin hooks (`hooks`, the ``pytest11``
entry point) handing off to one run object (`run`), the items, `examples()` and the fixtures.
"""
