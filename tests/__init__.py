"""qinggan test suite (a package, so that each folder's conftest has its own module name)."""
