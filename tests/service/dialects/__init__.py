"""Tests of the vendor dialects (a package, so that its conftest does not shadow the one of
``tests/service``, which sibling test modules import as ``conftest``)."""
