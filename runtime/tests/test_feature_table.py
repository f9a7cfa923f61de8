"""The dataset job registers the table it built for Databricks Feature Engineering: its
key columns NOT NULL, then a primary key with the request time as TIMESERIES; once.

MOCK BOUNDARY: Databricks SQL. `UnitySql` records the statements and answers the
`information_schema.table_constraints` query as Unity Catalog does (a row per constraint
of the table). Spark's own SQL has no primary keys, so this is where the job meets it.
"""

from __future__ import annotations

from typing import Any

import pytest

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.tabular.feature_table import register_feature_table

TABLE = "main.rfq.rfq_training"


class UnitySql:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.constraints: list[dict[str, str]] = []

    def sql(self, statement: str, args: dict[str, Any] | None = None) -> Any:
        self.statements.append(statement)
        if "information_schema.table_constraints" in statement:
            assert statement.startswith("SELECT constraint_name FROM `main`.information_schema")
            assert args == {"schema": "rfq", "name": "rfq_training"}  # values never in the SQL
            rows = [c for c in self.constraints if c["constraint_type"] == "PRIMARY KEY"]
        elif "ADD CONSTRAINT" in statement:
            self.constraints.append({"constraint_type": "PRIMARY KEY"})
            rows = []
        else:
            rows = []

        class Result:
            def collect(self) -> list[dict[str, str]]:
                return rows

        return Result()


def test_the_table_gets_its_point_in_time_key_once() -> None:
    unity = UnitySql()
    assert register_feature_table(unity, TABLE, ["rfq_id"], "requested_at")
    assert unity.statements[1:] == [
        "ALTER TABLE `main`.`rfq`.`rfq_training` ALTER COLUMN `rfq_id` SET NOT NULL",
        "ALTER TABLE `main`.`rfq`.`rfq_training` ALTER COLUMN `requested_at` SET NOT NULL",
        "ALTER TABLE `main`.`rfq`.`rfq_training` ADD CONSTRAINT `rfq_training_pk` "
        "PRIMARY KEY (`rfq_id`, `requested_at` TIMESERIES)",
    ]
    unity.statements.clear()
    assert not register_feature_table(unity, TABLE, ["rfq_id"], "requested_at")
    assert len(unity.statements) == 1  # only the look-up: a rerun changes nothing


@pytest.mark.parametrize(
    ("table", "key"),
    [("rfq.rfq_training", "rfq_id"), (TABLE, "rfq_id` INT, x"), ("main.rfq.t`;--", "rfq_id")],
)
def test_what_cannot_be_a_feature_table_is_one_line_and_no_sql(table: str, key: str) -> None:
    unity = UnitySql()
    with pytest.raises(ProjectError, match=r"catalog\.schema\.table"):
        register_feature_table(unity, table, [key], "requested_at")
    assert unity.statements == []
