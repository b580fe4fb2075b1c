"""Clienteling as a layer: its area (the follow-ups' outcomes), its part (the rules of
`[clienteling]`) and its API."""

from __future__ import annotations

from hub.clienteling import appointments, model, tiers, wishlists
from hub.runtime import Area, Layer
from hub.words import N_

LAYER = Layer(
    "clienteling",
    areas=(Area("clienteling", model.SCHEMA, model.PROJECTIONS),
           Area("wishlists", wishlists.SCHEMA, wishlists.PROJECTIONS),
           Area("tiers", tiers.SCHEMA, tiers.PROJECTIONS),
           Area("appointments", appointments.SCHEMA, appointments.PROJECTIONS)),
    part="hub.clienteling.part", web="hub.clienteling.web",
    permissions={
        "clients.export": N_("Export a client's own data for her, or a list of clients for"
                             " an event (encrypted files, each export in the books)"),
        "clients.merge": N_("Merge two records of the same client into one"),
        "clients.reassign": N_("Give an associate's book of clients to another"),
        "clients.erase": N_("Erase a client at her request (her data becomes unreadable)"),
        "clients.tiers": N_("Browse the client book by tier, with each client's spend, and"
                            " see the rising clients"),
        **appointments.PERMISSIONS,
    },
    grants={"manager": ("clients.export", "clients.merge", "clients.erase", "clients.tiers",
                        "clients.reassign",
                        *appointments.GRANTS["manager"]),
            "associate": ("clients.tiers", *appointments.GRANTS["associate"])},
)
