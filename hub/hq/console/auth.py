"""Who may see and do what in HQ's console: one table, checked by the app's middleware on
every route (a route names its permission; one without a name is refused)."""

from __future__ import annotations

from hub.words import N_

PUBLIC = "public"  # the sign-in page, the style sheet

# permission -> the roles that have it. Owners run the chain; merchandisers look after
# stock and prices and never see a client; auditors read everything that proves nothing
# was altered (chains, conflicts, history) and see clients by id only.
MATRIX: dict[str, frozenset[str]] = {
    "stores.view": frozenset({"owner", "merchandiser", "auditor"}),
    "stores.verify": frozenset({"owner", "auditor"}),
    "stock.view": frozenset({"owner", "merchandiser", "auditor"}),
    "clients.view": frozenset({"owner", "auditor"}),
    "clients.personal": frozenset({"owner"}),
    "clients.merge": frozenset({"owner"}),
    "sales.view": frozenset({"owner", "merchandiser", "auditor"}),
    "conflicts.view": frozenset({"owner", "merchandiser", "auditor"}),
    "conflicts.resolve": frozenset({"owner"}),
    "messages.view": frozenset({"owner", "merchandiser", "auditor"}),
    "transit.view": frozenset({"owner", "merchandiser", "auditor"}),
    "transit.request": frozenset({"owner", "merchandiser"}),
}

ROLE_WORDS = {"owner": N_("Owner"), "merchandiser": N_("Merchandiser"),
              "auditor": N_("Auditor")}


def allows(role: str | None, permission: str) -> bool:
    if permission == PUBLIC:
        return True
    return role is not None and role in MATRIX.get(permission, frozenset())
