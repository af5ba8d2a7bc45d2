"""BCF exchange: topics without an anchor or part, and the BCF data arinspect cannot map.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00

``annotations.part_id`` and ``annotations.anchor`` become nullable (a topic imported from
another tool has neither); ``annotations.bcf`` and ``comments.bcf`` (JSON, nullable) keep
the original BCF strings and everything without a column of its own, so that an export
reproduces them. On SQLite the NOT NULL constraints are removed without rebuilding the
table (see `_nullable`).
"""

import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _nullable(column: str, type_: sa.types.TypeEngine, nullable: bool) -> None:
    """Change a column of ``annotations`` to ``nullable``.

    SQLite cannot alter a column, and a batch-mode rebuild would drop ``annotations``
    while comments, attachments and conflicts point at it (a foreign-key failure inside
    the migration's transaction). Adding or removing a NOT NULL constraint does not
    change the stored rows, so SQLite's documented procedure for it is used instead:
    edit the table's definition in ``sqlite_schema`` with ``writable_schema`` and bump
    ``schema_version`` (https://www.sqlite.org/lang_altertable.html, "otheralter").
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("annotations", column, existing_type=type_, nullable=nullable)
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'annotations'"
    ).scalar_one()
    pattern = re.compile(rf"(\b{column}\s+[A-Z]+(?:\(\d+\))?)( NOT NULL)?", re.IGNORECASE)
    new_sql, count = pattern.subn(lambda m: m.group(1) + ("" if nullable else " NOT NULL"), sql,
                                  count=1)  # fmt: skip
    if count != 1:
        raise RuntimeError(f"column {column} not found in the definition of annotations")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'annotations'",
        (new_sql,),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    """Apply this revision."""
    _nullable("part_id", sa.String(length=128), True)
    _nullable("anchor", JSON_TYPE, True)
    op.add_column("annotations", sa.Column("bcf", JSON_TYPE, nullable=True))
    op.add_column("comments", sa.Column("bcf", JSON_TYPE, nullable=True))


def downgrade() -> None:
    """Revert this revision (fails while an annotation has no part or anchor)."""
    op.drop_column("comments", "bcf")
    op.drop_column("annotations", "bcf")
    _nullable("anchor", JSON_TYPE, False)
    _nullable("part_id", sa.String(length=128), False)
