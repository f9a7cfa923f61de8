"""This repository's pytest plugins, for every test folder (tests/, runtime/tests/)."""

pytest_plugins = ["tests.sharding"]
