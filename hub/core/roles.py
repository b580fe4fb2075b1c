"""Who may do what: permissions, and roles as named sets of them that a store can change.

Every route and every command of the hub needs one permission (or none: sign-in, health).
A role is a named set of permissions. The three roles of a new store (associate, manager,
administrator) are the defaults; an administrator may change any role or add the store's own
(a trainee who cannot void, a bench jeweler who sees only the workshop). A role's definition
is a journal entry (`role.defined`), so who could do what, when, is in the books.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.core import fields
from hub.core.errors import Invalid, Refused
from hub.ledger.journal import Entry
from hub.ledger.ledger import Ledger, Tx
from hub.words import labels

# What a permission lets a person do, in words (`hub.words.labels.PERMISSION`; the settings
# screen lists them, a refusal names the one missing).
PERMISSIONS: dict[str, str] = dict(labels.PERMISSION)

_ASSOCIATE = ("sell", "stock.view", "clients.view", "clients.edit", "returns.request",
              "counts.run", "devices.view", "devices.use", "sync.view", "sync.collect")
_MANAGER = (*_ASSOCIATE, "cost.view", "approve", "approvals.view", "pieces.inspect",
            "counts.manage", "sync.refusals", "settings.view", "metrics.view")
DEFAULT_ROLES: dict[str, frozenset[str]] = {
    "associate": frozenset(_ASSOCIATE),
    "manager": frozenset(_MANAGER),
    "admin": frozenset(PERMISSIONS),
}


def with_layers(grants: list[dict[str, tuple[str, ...]]],
                permissions: dict[str, str]) -> dict[str, frozenset[str]]:
    """The shipped roles with what each layer grants them; the administrator may do all."""
    roles = dict(DEFAULT_ROLES)
    for grant in grants:
        for role, added in grant.items():
            roles[role] = roles.get(role, frozenset()) | frozenset(added)
    roles["admin"] = frozenset(permissions)
    return roles
# A store can lock itself out of nothing: these stay with the administrator role.
_ADMIN_KEEPS = frozenset({"staff.manage", "roles.manage"})

SCHEMA_SQL = """
CREATE TABLE roles (
    role        TEXT PRIMARY KEY,
    permissions TEXT NOT NULL,             -- space-separated, sorted
    seq         INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Role:
    name: str
    permissions: frozenset[str]
    custom: bool  # changed or added by the store (not a default as shipped)


def _on_defined(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO roles (role, permissions, seq) VALUES (?, ?, ?) ON CONFLICT(role)"
               " DO UPDATE SET permissions = excluded.permissions, seq = excluded.seq",
               (p["role"], " ".join(sorted(p["permissions"])), entry.seq))


PROJECTIONS = {"role.defined": _on_defined}


class Roles:
    """The store's roles, read once at start and kept in memory (every request asks).

    `permissions` are every permission the hub's layers know (the core's and each layer's
    own, `Layer.permissions`); `defaults` the roles as shipped, with what each layer grants
    them (`Layer.grants`)."""

    def __init__(self, ledger: Ledger, permissions: dict[str, str] | None = None,
                 defaults: dict[str, frozenset[str]] | None = None) -> None:
        self.ledger = ledger
        self.permissions = permissions or PERMISSIONS
        self.defaults = defaults or DEFAULT_ROLES
        self._roles = self._shipped()

    def _shipped(self) -> dict[str, Role]:
        return {n: Role(n, p, False) for n, p in self.defaults.items()}

    async def load(self) -> None:
        self._roles = self._shipped()
        for row in await self.ledger.fetch("SELECT role, permissions FROM roles"):
            perms = frozenset(row["permissions"].split())
            self._roles[row["role"]] = Role(row["role"], perms, True)

    def all(self) -> list[Role]:
        order = list(self.defaults)
        return sorted(self._roles.values(),
                      key=lambda r: (order.index(r.name) if r.name in order else 99, r.name))

    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.all())

    def get(self, role: str) -> Role | None:
        return self._roles.get(role)

    def allows(self, role: str | None, permission: str | None) -> bool:
        """Whether `role` has `permission` (None: anyone signed in may)."""
        if permission is None:
            return role is not None
        found = self._roles.get(role or "")
        return found is not None and permission in found.permissions

    def check_role(self, role: Any, field: str = "role") -> str:
        return fields.choice(role, field, self.names(), required=True, vocabulary="role",
                             lower=False) or ""

    async def define(self, role: Any, permissions: Any, *, actor: str) -> Role:
        """Set what `role` may do (a new role, or a change to one): one journal entry."""
        name = fields.identifier(role, "role", what="a role name (letters, digits, - or _)")
        assert name is not None
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise Invalid("this must be a list of permissions", "permissions")
        unknown = sorted(set(permissions) - set(self.permissions))
        if unknown:
            raise Invalid("“{name}” is not a permission", "permissions", name=unknown[0])
        perms = frozenset(permissions)
        if name == "admin" and not _ADMIN_KEEPS <= perms:
            raise Refused("admin_keeps", "the administrator role keeps the right to manage"
                          " staff and roles, so the store can never lock itself out",
                          field="permissions")
        role_obj = Role(name, perms, True)

        def command(tx: Tx) -> None:
            tx.append("role.defined", f"role:{name}",
                      {"role": name, "permissions": sorted(perms)}, actor=actor)
            tx.after_commit.append(lambda: self._roles.__setitem__(name, role_obj))

        await self.ledger.transact(command)
        return role_obj
