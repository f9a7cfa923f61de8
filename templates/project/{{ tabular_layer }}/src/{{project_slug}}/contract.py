"""This project's data contract: the platform's engine (pandera, on pandas frames and Spark
tables, one line per problem) over the features declared in `schema`. The serving path
never imports it: a request is one row, checked by the schema's request model."""

from __future__ import annotations

from goldpath_runtime.tabular.contract import Contract

from .schema import SCHEMA

CONTRACT = Contract(SCHEMA)
validate_frame = CONTRACT.validate_frame
validate_table = CONTRACT.validate_table
