"""Whether a server lets this connection store an inspection, asked before any work whose result would
be lost: a standby takes no writes, and a role may hold only some of the tables' privileges."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.text import safe_text

# what storing an inspection does: adds rows to each, and holds (FOR UPDATE) or edits an asset's
NEEDED = (
    ("assets", "INSERT"),
    ("assets", "UPDATE"),
    ("inspections", "INSERT"),
    ("photos", "INSERT"),
    ("results", "INSERT"),
)

_MISSING = sa.text(
    """
    SELECT name, privilege FROM unnest(CAST(:names AS text[]), CAST(:privileges AS text[]))
        AS needed(name, privilege)
    WHERE NOT has_table_privilege(name, privilege)
    UNION ALL
    SELECT DISTINCT name, 'USAGE' FROM unnest(CAST(:names AS text[])) AS tables(name)
    WHERE pg_get_serial_sequence(name, 'id') IS NOT NULL
      AND NOT has_sequence_privilege(pg_get_serial_sequence(name, 'id'), 'USAGE')
    """
)


def write_problem(conn: sa.Connection) -> str | None:
    """Why this PostgreSQL connection cannot store an inspection (read-only, privileges missing), or None."""
    if conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
        return "the server takes no writes (read-only)"
    names, privileges = zip(*NEEDED, strict=True)
    missing = conn.execute(_MISSING, {"names": list(names), "privileges": list(privileges)}).all()
    if not missing:
        return None
    user = safe_text(conn.exec_driver_sql("SELECT current_user").scalar())  # a name any admin chose
    said = ", ".join(
        f"{privilege} on {'the id sequence of ' if privilege == 'USAGE' else ''}{name}"
        for name, privilege in missing
    )
    return (
        f"the role {user} may not write the project's tables (it lacks {said}): ask the server's "
        "administrator to grant it, or use a role that may write"
    )
