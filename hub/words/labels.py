"""The words a person reads for the hub's machine values: statuses, categories, tenders,
journal kinds, actors and input fields. Each is a message id (English), translated where it is
shown (`Words.term`, `Words.field_label`). The API keeps the machine values; screens, receipts
and error sentences use these."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


STATUS = {
    "in_stock": N_("In stock"), "reserved": N_("Reserved"), "sold": N_("Sold"),
    "returned": N_("Returned, awaiting inspection"), "memo_out": N_("Out on memo"),
    "in_repair": N_("In repair"), "in_transfer": N_("In transfer"), "missing": N_("Missing"),
    "written_off": N_("Written off"), "returned_to_vendor": N_("Given back to its owner"),
    "in_transit": N_("On its way to another store"), "transferred": N_("Sent to another store"),
}
CATEGORY = {
    "ring": N_("ring"), "necklace": N_("necklace"), "bracelet": N_("bracelet"),
    "earrings": N_("earrings"), "pendant": N_("pendant"), "brooch": N_("brooch"),
    "watch": N_("watch"), "cufflinks": N_("cufflinks"), "charm": N_("charm"),
    "loose stone": N_("loose stone"), "set": N_("set"), "other": N_("other"),
}
METAL = {
    "platinum": N_("platinum"), "gold": N_("gold"), "silver": N_("silver"),
    "palladium": N_("palladium"), "titanium": N_("titanium"), "steel": N_("steel"),
    "other": N_("other metal"),
}
STONE = {
    "diamond": N_("diamond"), "sapphire": N_("sapphire"), "ruby": N_("ruby"),
    "emerald": N_("emerald"), "pearl": N_("pearl"), "tanzanite": N_("tanzanite"),
    "spinel": N_("spinel"), "tourmaline": N_("tourmaline"), "aquamarine": N_("aquamarine"),
    "amethyst": N_("amethyst"), "morganite": N_("morganite"), "opal": N_("opal"),
    "garnet": N_("garnet"), "topaz": N_("topaz"), "onyx": N_("onyx"),
}
COLOUR = {
    "yellow": N_("yellow"), "white": N_("white"), "rose": N_("rose"), "black": N_("black"),
    "two-tone": N_("two-tone"), "tri-colour": N_("tri-colour"),
}
OWNERSHIP = {"owned": N_("Owned"), "memo": N_("On memo from a vendor"),
             "consignment": N_("On consignment")}
TENDER = {
    "cash": N_("Cash"), "card": N_("Card"), "store_credit": N_("Store credit"),
    "gift_card": N_("Gift card"), "trade_in": N_("Trade-in"),
    "bank_transfer": N_("Bank transfer"), "loyalty": N_("Loyalty points"),
    "deposit": N_("Deposits paid"),
}
SALE_STATUS = {"completed": N_("Completed"), "voided": N_("Voided"),
               "partly_returned": N_("Partly returned"), "returned": N_("Returned")}
APPROVAL_STATUS = {"granted": N_("Granted"), "refused": N_("Refused"), "used": N_("Used")}
ACTION = {"discount": N_("discount"), "price_change": N_("price change"), "void": N_("void"),
          "return": N_("return"), "no_sale": N_("drawer opening without a sale"),
          "inspection": N_("inspection of a returned piece"),
          "pickup_difference": N_("difference found at pick-up"),
          "deposit_refund": N_("refund of a deposit"),
          "stale_rate": N_("sale at a metal rate past its validity"),
          "below_cost": N_("promotion below a piece's cost"),
          "below_minimum": N_("sale below a consignor's agreed price")}
ROLE = {"associate": N_("Associate"), "manager": N_("Manager"), "admin": N_("Administrator")}
STAFF_STATUS = {"active": N_("Active"), "left": N_("Left")}
INSPECTION = {"in_stock": N_("Back to stock"), "in_repair": N_("To repair"),
              "written_off": N_("Written off")}
# What a journal entry did, as a piece's history or an audit list shows it.
KIND = {
    "item.received": N_("Received into stock"), "item.updated": N_("Details changed"),
    "item.moved": N_("Moved"), "item.status": N_("Status changed"),
    "item.inspected": N_("Inspected after its return"),
    "followup.done": N_("Follow-up done"),
    "followup.snoozed": N_("Follow-up put off"), "contact.logged": N_("Contact logged"),
    "account.moved": N_("Balance moved"), "client.exported": N_("Her data exported"),
    "client.merged": N_("Merged with another record of her"),
    "client_list.exported": N_("A list of clients exported"),
    "stock.received": N_("Stock received"), "stock.adjusted": N_("Stock adjusted"),
    "sale.completed": N_("Sold"), "sale.returned": N_("Returned"),
    "sale.voided": N_("Sale voided"),
    "client.created": N_("Client added"), "client.updated": N_("Client profile changed"),
    "client.forgotten": N_("Client erased"), "key.rotated": N_("New key version"),
    "day.closed": N_("Day closed (Z report)"),
    "staff.enrolled": N_("Staff member enrolled"), "staff.changed": N_("Staff member changed"),
    "staff.lockout": N_("Sign-in locked after wrong PINs"),
    "approval.granted": N_("Manager approval granted"),
    "approval.refused": N_("Manager approval refused"),
    "approval.used": N_("Manager approval used"),
    "count.started": N_("Count started"), "count.closed": N_("Counted"),
    "count.sweep": N_("Handheld sweep"), "count.piece_found": N_("Found again"),
    "hq.message": N_("Message from head office"), "hq.conflict": N_("Conflict with head office"),
    "price.quoted": N_("Price quoted"), "rates.accepted": N_("Held metal rates accepted"),
    "item.tags_printed": N_("Tag reprinted"),
    "hq.reservation_collected": N_("Collected (click and collect)"),
    "register.no_sale": N_("Drawer opened without a sale"),
    "role.defined": N_("Role changed"),
}
DEVICE_STATE = {"connecting": N_("Connecting"), "connected": N_("Connected"),
                "retrying": N_("Retrying"), "failed": N_("Failed"), "stopped": N_("Stopped")}
DEVICE_KIND = {"scanner": N_("Scanner"), "printer": N_("Receipt printer"),
               "tag_printer": N_("Tag printer"), "scale": N_("Scale"),
               "display": N_("Pole display"), "rfid": N_("RFID reader"), "drawer": N_("Drawer"),
               "device": N_("Device")}
COUNT_KIND = {"opening": N_("Opening"), "closing": N_("Closing"), "spot": N_("Spot check"),
              "full": N_("Whole store")}
COUNT_STATUS = {"open": N_("Open"), "closed": N_("Closed"), "expired": N_("Expired"),
                "cancelled": N_("Cancelled")}
SYNC_STATE = {"starting": N_("Starting"), "connecting": N_("Connecting"),
              "idle": N_("Not connected"), "offline": N_("Offline"),
              "syncing": N_("Sending"), "in_sync": N_("Up to date"), "blocked": N_("Blocked"),
              "hq_ahead": N_("Head office is ahead"), "refused_by_hq": N_("Refused by head office"),
              "not_enrolled": N_("Not enrolled")}
# What each permission lets a person do (`hub.core.roles`: roles are named sets of them).
PERMISSION = {
    "sell": N_("Sell at a register: carts, tenders, completing a sale"),
    "stock.view": N_("See the stock and each piece"),
    "cost.view": N_("See costs and margins"),
    "clients.view": N_("See the client book"),
    "clients.edit": N_("Add and change clients"),
    "returns.request": N_("Ask for a return, a void or a drawer opening (a manager approves)"),
    "approve": N_("Approve with their PIN: discounts, prices, returns, voids, drawer openings"),
    "approvals.view": N_("See every approval and refusal"),
    "pieces.inspect": N_("Inspect returned pieces"),
    "counts.run": N_("Take part in stock counts and find pieces"),
    "counts.manage": N_("Start and close stock counts, confirm missing pieces and move"
                        " misplaced ones"),
    "devices.view": N_("See the devices"),
    "devices.use": N_("Reprint receipts, print tags, drive the pole display"),
    "sync.view": N_("See the sync with head office"),
    "sync.collect": N_("Hand over click-and-collect reservations and ship online orders"),
    "sync.refusals": N_("See the messages refused from head office"),
    "settings.view": N_("See the store's settings and staff"),
    "staff.manage": N_("Enroll staff and change their PIN, role or status"),
    "roles.manage": N_("Change what each role may do"),
    "metrics.view": N_("Read the hub's metrics"),
}

FOLLOWUP_OUTCOME = {"called": N_("Called"), "message_left": N_("Message left"),
                    "emailed": N_("E-mailed"), "visited": N_("Visited")}
FOLLOWUP_KIND = {"date": N_("A date to remember"), "purchase": N_("After a purchase"),
                 "bridal": N_("After a bridal purchase"),
                 "appointment": N_("After an appointment"), "lapsed": N_("Lapsed client"),
                 "wish": N_("Wish list"), "contact": N_("Contact"),
                 "payment_due": N_("Layaway payment due")}
WISH_EVENT = {"back_in_stock": N_("back in stock"), "repriced": N_("new price")}
DUPLICATE_REASON = {"same_contact": N_("the same e-mail or phone"),
                    "same_name": N_("the same name"), "similar_name": N_("alike names")}

# The client profile's own vocabularies (hub/core/clients.py keeps the same keys).
STYLE = {"classic": N_("classic"), "modern": N_("modern"), "vintage": N_("vintage"),
         "art_deco": N_("Art Deco"), "minimalist": N_("minimalist"),
         "statement": N_("statement"), "bridal": N_("bridal"), "nature": N_("nature-inspired")}
CHANNEL = {"email": N_("E-mail"), "sms": N_("SMS"), "phone": N_("Phone call"),
           "post": N_("Post"), "messaging": N_("Messaging app")}
CONSENT_HOW = {"in_store": N_("in store"), "signed_form": N_("on a signed form"),
               "web": N_("on the web"), "phone": N_("by phone"),
               "email_reply": N_("in reply to an e-mail")}
RELATION = {"child": N_("child"), "parent": N_("parent"), "sibling": N_("brother or sister"),
            "other": N_("family")}
LENGTH = {"wrist": N_("Wrist"), "bracelet": N_("Bracelet"), "neck": N_("Neck"),
          "necklace": N_("Necklace")}
CONVERSATION = {"work": N_("Work"), "children": N_("Children"), "pets": N_("Pets"),
                "hobbies": N_("Hobbies")}

VOCABULARIES: dict[str, dict[str, str]] = {
    "style": STYLE, "channel": CHANNEL, "consent_how": CONSENT_HOW, "relation": RELATION,
    "length": LENGTH, "conversation": CONVERSATION,
    "status": STATUS, "category": CATEGORY, "metal": METAL, "colour": COLOUR, "stone": STONE,
    "ownership": OWNERSHIP, "tender": TENDER, "sale_status": SALE_STATUS,
    "approval_status": APPROVAL_STATUS, "action": ACTION, "role": ROLE,
    "staff_status": STAFF_STATUS, "inspection": INSPECTION, "kind": KIND,
    "device_state": DEVICE_STATE, "device_kind": DEVICE_KIND, "count_kind": COUNT_KIND,
    "count_status": COUNT_STATUS, "sync_state": SYNC_STATE, "permission": PERMISSION,
    "followup_outcome": FOLLOWUP_OUTCOME, "followup_kind": FOLLOWUP_KIND,
    "wish_event": WISH_EVENT, "duplicate_reason": DUPLICATE_REASON,
}
# Who did it, when it was not a person on the roster.
ACTORS = {"generator": N_("Demo data"), "demo": N_("Demo set-up"), "import": N_("CSV import"),
          "hub": N_("Loupe"), "hq": N_("Head office"), "admin": N_("Administrator"),
          "manager": N_("Manager")}

# Input fields by their machine key (the last part of a path such as `tenders[0].last4`);
# `name[]` is how an element of the list `name` is called.
FIELDS = {
    # pieces
    "item_id": N_("Serial"), "sku": N_("SKU"), "epc": N_("RFID tag (EPC)"),
    "description": N_("Description"), "category": N_("Category"), "metal": N_("Metal"),
    "fineness": N_("Fineness"), "karat": N_("Karat"), "metal_colour": N_("Metal colour"),
    "metal_weight_mg": N_("Metal weight"), "designer": N_("Designer"),
    "collection": N_("Collection"), "cost": N_("Cost"), "tag_price": N_("Tag price"),
    "tax_code": N_("Tax rate"), "ownership": N_("Ownership"), "vendor": N_("Vendor"),
    "location": N_("Location"), "status": N_("Status"), "stones": N_("Stones"),
    "pricing": N_("Pricing by the gram"), "making_per_gram": N_("Making charge a gram"),
    "making_bp": N_("Making charge (share of the metal)"), "margin_bp": N_("Margin"),
    "round_to": N_("Rounded to"), "rounding": N_("Rounding"), "quote_id": N_("Quote"),
    "stones[]": N_("Stone"), "type": N_("Type"), "carat_cents": N_("Carats"),
    "shape": N_("Shape"), "colour": N_("Colour"), "clarity": N_("Clarity"), "lab": N_("Lab"),
    "certificate": N_("Certificate"), "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"), "stone": N_("Stone"), "q": N_("Search"),
    "price_min": N_("Lowest price"), "price_max": N_("Highest price"), "limit": N_("Page size"),
    "offset": N_("Page"), "code": N_("Code"), "note": N_("Note"), "outcome": N_("Outcome"),
    # clients
    "title": N_("Title"), "first_name": N_("First name"), "last_name": N_("Last name"),
    "emails": N_("E-mail"), "phones": N_("Phone"), "addresses": N_("Address"),
    "addresses[]": N_("Address"), "line1": N_("Address line 1"),
    "line2": N_("Address line 2"), "city": N_("City"), "postcode": N_("Postcode"),
    "region": N_("Region"), "country": N_("Country"), "label": N_("Label"),
    "ring_sizes": N_("Ring sizes"), "preferences": N_("Preferences"), "dates": N_("Dates"),
    "birthday": N_("Birthday"), "anniversary": N_("Anniversary"),
    "engagement": N_("Engagement"), "wedding": N_("Wedding"), "other": N_("Other date"),
    "partner_id": N_("Partner"), "notes": N_("Notes"), "consent": N_("Consent"),
    "language": N_("Language"), "tier": N_("Tier"), "client_id": N_("Client"),
    "designers": N_("Designers"),
    "lengths": N_("Lengths"), "wrist": N_("Wrist"), "bracelet": N_("Bracelet"),
    "neck": N_("Neck"), "necklace": N_("Necklace"), "unit": N_("Unit"),
    "metals": N_("Metals"), "colours": N_("Colours"),
    "styles": N_("Styles"), "budget": N_("Budget"), "household": N_("Household"),
    "household[]": N_("Household member"), "relation": N_("Relation"),
    "conversation": N_("Conversation"), "work": N_("Work"), "children": N_("Children"),
    "pets": N_("Pets"), "hobbies": N_("Hobbies"),
    "primary_associate": N_("Associate"), "secondary_associate": N_("Second associate"),
    "do_not_contact": N_("Do not contact"), "do_not_contact[]": N_("Do-not-contact period"),
    "from": N_("From"), "to": N_("Until"), "channel": N_("Channel"),
    "marketing": N_("Marketing"), "how": N_("How it was given"), "at": N_("When"),
    "by": N_("By"), "email": N_("E-mail"), "sms": N_("SMS"), "phone": N_("Phone calls"),
    "post": N_("Post"), "messaging": N_("Messaging app"), "purpose": N_("Purpose"),
    "from_staff": N_("Associate"), "to_staff": N_("New associate"),
    # sales, carts, tenders
    "lines": N_("Lines"), "lines[]": N_("Line"), "line_no": N_("Line"),
    "tenders": N_("Tenders"), "tenders[]": N_("Tender"), "amount": N_("Amount"),
    "last4": N_("Last 4 digits of the card"), "brand": N_("Card brand"),
    "auth_code": N_("Authorisation code"), "terminal_ref": N_("Terminal reference"),
    "reference": N_("Reference"), "number": N_("Number"), "discount": N_("Discount"),
    "register_id": N_("Register"), "sale_id": N_("Sale"), "reason": N_("Reason"),
    "index": N_("Tender"), "keep_discount": N_("Discount"),
    # staff and approvals
    "staff_id": N_("Staff id"), "name": N_("Name"), "role": N_("Role"), "pin": N_("PIN"),
    "manager_id": N_("Manager"), "approval_id": N_("Approval"), "action": N_("Action"),
    "kind": N_("Kind"),
}

# Appointments (hub/clienteling/appointments.py): kinds in a sentence's case ("Sophie has a
# private viewing from 14:00"), stages and the moves between them (the stage machine's).
APPOINTMENT_KIND = {"private_viewing": N_("private viewing"),
                    "consultation": N_("consultation"),
                    "bridal": N_("bridal appointment"), "repair_pickup": N_("repair pick-up"),
                    "custom_order": N_("custom-order meeting")}
APPOINTMENT_STATUS = {"booked": N_("Booked"), "confirmed": N_("Confirmed"),
                      "arrived": N_("Arrived"), "done": N_("Done"), "no_show": N_("No-show"),
                      "cancelled": N_("Cancelled")}
APPOINTMENT_MOVE = {"confirm": N_("Confirm"), "arrive": N_("Arrived"), "finish": N_("Done"),
                    "no_show": N_("No-show"), "cancel": N_("Cancel"), "reopen": N_("Reopen")}
TRAY_STATUS = {"open": N_("On the tray"), "closed": N_("Back in its showcase"),
               "sold": N_("Sold from the tray")}
VOCABULARIES.update({"appointment_kind": APPOINTMENT_KIND,
                     "appointment_status": APPOINTMENT_STATUS,
                     "appointment_move": APPOINTMENT_MOVE, "tray_status": TRAY_STATUS})
KIND.update({
    "item.held": N_("Held (on a tray)"), "item.released": N_("Hold ended"),
    "appointment.booked": N_("Appointment booked"), "appointment.moved": N_("Appointment moved on"),
    "appointment.note": N_("Appointment note"),
    "appointment.tray_pulled": N_("Pieces pulled to a tray"),
    "appointment.tray_closed": N_("Tray closed, pieces back in their showcases"),
})
FIELDS.update({
    "associate": N_("Associate"), "salon": N_("Salon"), "start": N_("Start"),
    "end": N_("End"), "duration_min": N_("Duration"), "item_ids": N_("Pieces"),
    "item_ids[]": N_("Piece"), "tray": N_("Tray"), "move": N_("Move"), "day": N_("Day"),
    "view": N_("View"), "confirm_held": N_("Sell a held piece"),
})

# Wish lists, tiers and recommendations (hub/clienteling/wishlists.py, tiers.py, recommend.py).
CLIENT_TIER = {"prospect": N_("Prospect"), "new": N_("New client"), "loyal": N_("Loyal"),
               "vip": N_("VIP")}
WISH_SOURCE = {"in_store": N_("in store"), "web_shop": N_("on the web shop")}
VOCABULARIES.update({"client_tier": CLIENT_TIER, "wish_source": WISH_SOURCE})
KIND.update({
    "wishlist.added": N_("Added to a wish list"),
    "wishlist.removed": N_("Taken off a wish list"),
    "client.tier_changed": N_("Tier changed"),
})
FIELDS.update({
    "style": N_("Style"), "for_client_id": N_("For"), "entry_id": N_("Wish"),
    "lifetime": N_("Lifetime"), "last_12_months": N_("Last 12 months"), "visits": N_("Visits"),
})

# Messages to clients (hub/core/outbox.py): what each is for, where it stands, and why head
# office did not send one.
NOTIFICATION_PURPOSE = {"ready": N_("Ready for pick-up"), "overdue": N_("Overdue"),
                        "quote": N_("Quote to approve"), "payment_due": N_("Payment due"),
                        "statement": N_("Statement"), "followup": N_("Note from her associate")}
NOTIFICATION_STATUS = {"requested": N_("Waiting to be sent"), "sent": N_("Sent"),
                       "refused": N_("Not sent: no consent"), "failed": N_("Could not be sent")}
NOTIFICATION_REASON = {"no_consent": N_("she said no to messages on this channel"),
                       "do_not_contact": N_("she asked not to be contacted for now"),
                       "no_address": N_("no address for this channel"),
                       "client_erased": N_("her record was erased"),
                       "undeliverable": N_("the address did not take it"),
                       "sender_error": N_("head office could not send it")}
VOCABULARIES.update({"notification_purpose": NOTIFICATION_PURPOSE,
                     "notification_status": NOTIFICATION_STATUS,
                     "notification_reason": NOTIFICATION_REASON})
KIND.update({"notification.requested": N_("Message to the client asked for")})

# The workshop (hub/workshop/): jobs, their stages and moves, services, deposits.
JOB_KIND = {"repair": N_("Repair"), "custom": N_("Custom order"),
            "special": N_("Special order")}
JOB_STAGE = {
    "received": N_("Received"), "at_bench": N_("At the bench"),
    "at_vendor": N_("At an outside workshop"), "quality_check": N_("Quality check"),
    "ready": N_("Ready for pick-up"), "collected": N_("Collected"), "on_hold": N_("On hold"),
    "cancelled": N_("Cancelled"), "enquiry": N_("Enquiry"), "consultation": N_("Consultation"),
    "deposit": N_("Deposit"), "stone_sourcing": N_("Stone sourcing"), "cad": N_("CAD design"),
    "approval": N_("Client approval"), "setting": N_("Setting"), "polish": N_("Polishing"),
    "requested": N_("Requested"), "ordered": N_("Ordered"), "arrived": N_("Arrived"),
}
JOB_MOVE = {
    "to_bench": N_("To the bench"), "to_vendor": N_("To an outside workshop"),
    "to_quality_check": N_("To quality check"), "to_ready": N_("Ready for pick-up"),
    "hold": N_("Put on hold"), "resume": N_("Resume"), "cancel": N_("Cancel"),
    "collect": N_("Collected"), "uncollect": N_("Reopen after pick-up"),
    "revise": N_("Back for changes"), "to_consultation": N_("To consultation"),
    "to_deposit": N_("To deposit"), "to_stone_sourcing": N_("To stone sourcing"),
    "to_cad": N_("To CAD design"), "to_approval": N_("To client approval"),
    "to_setting": N_("To setting"), "to_polish": N_("To polishing"),
    "to_ordered": N_("Ordered"), "to_arrived": N_("Arrived"),
}
JOB_SERVICE = {"resize": N_("Resize"), "polish": N_("Polish"), "retip": N_("Re-tip"),
               "stone_replacement": N_("Stone replacement"), "engraving": N_("Engraving"),
               "clasp": N_("Clasp"), "other": N_("Other work")}
JOB_ESTIMATE = {"estimate_only": N_("Estimate only, wait for approval"),
                "call_first": N_("Call before starting"),
                "limit": N_("Do not exceed an amount")}
ENGRAVING_FONT = {"block": N_("Block capitals"), "script": N_("Script"),
                  "roman": N_("Roman"), "italic": N_("Italic")}
JOB_FILE = {"photo": N_("Photo"), "sketch": N_("Sketch"), "cad": N_("CAD file"),
            "signature": N_("Signature"), "certificate": N_("Certificate"),
            "document": N_("Document")}
VOCABULARIES.update({"job_kind": JOB_KIND, "job_stage": JOB_STAGE, "job_move": JOB_MOVE,
                     "job_service": JOB_SERVICE, "job_estimate": JOB_ESTIMATE,
                     "engraving_font": ENGRAVING_FONT, "job_file": JOB_FILE})
KIND.update({
    "job.details": N_("Job details"), "job.opened": N_("Job taken in"),
    "job.moved": N_("Job moved"), "job.note": N_("Note on a job"),
    "job.revised": N_("Job changed"), "job.attached": N_("File added to a job"),
    "job.quoted": N_("Quote made"), "job.quote_accepted": N_("Quote accepted"),
    "job.collected": N_("Job collected"), "deposit.taken": N_("Deposit taken"),
    "deposit.refunded": N_("Deposit refunded"),
})
FIELDS.update({
    "item_kind": N_("Kind of piece"), "condition": N_("Condition (private)"),
    "declared_value": N_("Declared value"), "weight_mg": N_("Weight"),
    "stone_count": N_("Stones"), "services": N_("Services"), "estimate": N_("Estimate"),
    "estimate_limit": N_("Not more than"), "express": N_("Express"),
    "promised": N_("Promised for"), "assignee": N_("Jeweler"), "vendor": N_("Outside workshop"),
    "specs": N_("Specifications"), "deposit": N_("Deposit"), "signature": N_("Signature"),
    "job_id": N_("Job"), "valid_days": N_("Valid for (days)"), "fineness": N_("Fineness"),
})

# Layaways (hub/workshop/layaways.py): their stages and moves, where an instalment stands.
LAYAWAY_STAGE = {"open": N_("Open"), "completed": N_("Handed over"),
                 "cancelled": N_("Given up")}
LAYAWAY_MOVE = {"complete": N_("Hand over"), "cancel": N_("Give up"),
                "reopen": N_("Reopen after a voided sale")}
INSTALMENT_STATUS = {"paid": N_("Paid"), "due": N_("To pay"), "overdue": N_("Overdue"),
                     "cancelled": N_("Not due: given up")}
VOCABULARIES.update({"layaway_stage": LAYAWAY_STAGE, "layaway_move": LAYAWAY_MOVE,
                     "instalment_status": INSTALMENT_STATUS})
KIND.update({
    "layaway.opened": N_("Layaway opened"), "layaway.moved": N_("Layaway moved on"),
    "layaway.note": N_("Note on a layaway"), "layaway.delivered": N_("Layaway handed over"),
    "layaway.cancelled": N_("Layaway given up"),
})
FIELDS.update({
    "layaway_id": N_("Layaway"), "schedule": N_("Schedule"), "schedule[]": N_("Instalment"),
    "instalments": N_("Instalments"), "first_due": N_("First instalment due"),
    "first_payment": N_("First payment"), "due": N_("Due"),
})

# Appraisals (hub/workshop/appraisals.py).
APPRAISAL_PURPOSE = {"insurance": N_("Insurance"), "estate": N_("Estate"),
                     "resale": N_("Resale")}
APPRAISAL_SUBJECT = {"piece": N_("A piece in the books"),
                     "client_item": N_("A client's own item")}
VOCABULARIES.update({"appraisal_purpose": APPRAISAL_PURPOSE,
                     "appraisal_subject": APPRAISAL_SUBJECT})
KIND.update({"appraisal.issued": N_("Appraisal issued"),
             "appraisal.details": N_("Appraisal details")})
FIELDS.update({"value": N_("Value"), "appraiser": N_("Appraiser"), "photos": N_("Photos"),
               "photos[]": N_("Photo"), "hash": N_("Fingerprint"), "size": N_("Size"),
               "caption": N_("Caption"), "appraisal_id": N_("Appraisal")})

# The attachment store (hub/core/attachments.py): what a file is, in sentences ("this file
# is not a JPEG photo as it claims"), and what it is for.
ATTACHMENT_TYPE = {"jpeg": N_("a JPEG photo"), "png": N_("a PNG picture"),
                   "heic": N_("a HEIC photo"), "pdf": N_("a PDF document"),
                   "stl": N_("an STL model")}
ATTACHMENT_KIND = {"photo": N_("photo"), "sketch": N_("sketch"), "cad": N_("CAD file"),
                   "signature": N_("signature"), "document": N_("document"),
                   "certificate": N_("certificate")}
VOCABULARIES.update({"attachment_type": ATTACHMENT_TYPE,
                     "attachment_kind": ATTACHMENT_KIND})
KIND.update({"attachment.stored": N_("File kept")})

# Gift cards, store credit and exchanges (hub/giftcards, hub/core/sales.py).
TENDER.update({"exchange": N_("Exchange")})
ACTION.update({"refund_cash": N_("cash refund of a sale not paid in cash"),
               "exchange": N_("exchange")})
ACCOUNT_MOVEMENT = {"issued": N_("Issued"), "applied": N_("Spent"), "refunded": N_("Given back"),
                    "reversed": N_("Cancelled"), "expired": N_("Expired")}
GIFT_CARD_STATUS = {"active": N_("Active"), "cancelled": N_("Cancelled"),
                    "pending": N_("Waiting for head office"), "reconciled": N_("Reconciled"),
                    "conflict": N_("In conflict")}
GIFT_CARD_BASIS = {"books": N_("this store's books"),
                   "online": N_("head office's balance"),
                   "offline": N_("the offline limit (head office out of reach)")}
VOCABULARIES.update({"account_movement": ACCOUNT_MOVEMENT, "gift_card_status": GIFT_CARD_STATUS,
                     "gift_card_basis": GIFT_CARD_BASIS})
KIND.update({"gift_card.sold": N_("Gift card sold"),
             "gift_card.cancelled": N_("Gift card cancelled"),
             "gift_card.foreign_applied": N_("Another store's gift card taken"),
             "gift_card.foreign_refunded": N_("Another store's gift card given back"),
             "gift_card.settled": N_("Head office's word on a gift card"),
             "gift_card.known": N_("Gift card balance from head office")})
FIELDS.update({"refund_to": N_("Refund to"),
               "refund_tenders": N_("Refund tenders"), "new_lines": N_("New pieces"),
               "lines_back": N_("Lines to return")})

# Memo and consignment (hub/memo).
MEMO_STATE = {"on_memo": N_("On memo"), "sold": N_("Sold"),
              "returned": N_("Given back to the vendor")}
MEMO_OUT_STATE = {"out": N_("Out on approval"), "sold": N_("Bought"), "back": N_("Brought back")}
CONSIGNMENT_STATE = {"held": N_("For sale"), "sold": N_("Sold"),
                     "returned": N_("Given back to her")}
MEMO_METHOD = {"bank_transfer": N_("Bank transfer"), "cheque": N_("Cheque"), "cash": N_("Cash")}
MEMO_EVENT = {"received": N_("Received on memo"), "sold": N_("Sold: owed to the vendor"),
              "unsold": N_("Sale taken back"), "returned": N_("Given back to the vendor"),
              "paid": N_("Paid to the vendor"), "out": N_("Out on approval"),
              "back": N_("Brought back"), "consigned": N_("Left on consignment"),
              "credited": N_("Sold: credited to her"), "uncredited": N_("Credit taken back"),
              "paid_out": N_("Paid out to her"), "given_back": N_("Given back to her")}
VOCABULARIES.update({"memo_state": MEMO_STATE, "memo_out_state": MEMO_OUT_STATE,
                     "consignment_state": CONSIGNMENT_STATE, "memo_method": MEMO_METHOD,
                     "memo_event": MEMO_EVENT})
FOLLOWUP_KIND.update({"memo_due": N_("Piece on approval due back")})
KIND.update({"vendor.added": N_("Vendor added"), "memo.received": N_("Received on memo"),
             "memo.sold": N_("Memo or consigned piece sold"),
             "memo.unsold": N_("Memo or consigned piece's sale taken back"),
             "memo.returned_to_vendor": N_("Given back to the vendor"),
             "memo.vendor_paid": N_("Vendor paid"), "memo.out": N_("Out on approval"),
             "memo.back": N_("Back from approval"),
             "consignment.received": N_("Left on consignment"),
             "consignment.returned": N_("Given back to the consignor"),
             "consignment.paid": N_("Consignor paid out")})
FIELDS.update({"vendor_id": N_("Vendor"), "memo_ref": N_("Vendor's memo number"),
               "terms_days": N_("Terms"), "owed": N_("Owed to the vendor"),
               "pieces": N_("Pieces"), "pieces[]": N_("Piece"),
               "memo_out_id": N_("Approval"), "commission_bp": N_("Commission"),
               "minimum": N_("Agreed price"), "term_days": N_("Term"),
               "consignment_id": N_("Consignment"), "method": N_("Paid by"),
               "piece": N_("Piece")})

# Travellers' money (hub/travel/): foreign currency tenders, exchange rates, tax-free forms.
TRAVEL_DOCUMENT = {"passport": N_("Passport"), "id_card": N_("Identity card")}
EXCHANGE_HELD = {"held": N_("Waiting for a manager"), "accepted": N_("Accepted"),
                 "superseded": N_("Replaced by a newer rate")}
TAX_FREE_STATUS = {"issued": N_("Issued"), "cancelled": N_("Cancelled")}
VOCABULARIES.update({"travel_document": TRAVEL_DOCUMENT, "exchange_held": EXCHANGE_HELD,
                     "tax_free_status": TAX_FREE_STATUS})
KIND.update({"exchange.rates_set": N_("Exchange rates from head office"),
             "exchange.rates_held": N_("Exchange rate move held for a manager"),
             "exchange.rate_accepted": N_("Held exchange rate accepted"),
             "tax_free.traveller": N_("Traveller's details for a tax-free form"),
             "tax_free.issued": N_("Tax-free form made"),
             "tax_free.cancelled": N_("Tax-free form cancelled")})
FIELDS.update({"currency": N_("Currency"), "foreign_amount": N_("Amount in that currency"),
               "rate": N_("Rate"), "rate_ref": N_("Rate reference"), "rates": N_("Rates"),
               "rates[]": N_("Rate"), "valid_from": N_("Valid from"),
               "valid_until": N_("Valid until"), "held_seq": N_("Held rate"),
               "document_type": N_("Document"),
               "document_number": N_("Passport or identity card number"),
               "residence": N_("Country of residence"), "nationality": N_("Nationality"),
               "address": N_("Address abroad")})

# The kinds of balance the store holds for others (hub/core/accounts.py), as the Z report
# lists them.
ACCOUNT_KIND = {"loyalty": N_("Loyalty points"), "deposit": N_("Deposits"),
                "gift_card": N_("Gift cards"), "store_credit": N_("Store credit"),
                "vendor_payable": N_("Owed to memo vendors"),
                "consignor": N_("Owed to consignors")}
VOCABULARIES.update({"account_kind": ACCOUNT_KIND})

# Buying gold and trade-ins (hub/buying/): her identity document, how a lot was tested,
# where a bought lot went, how she was paid.
IDENTITY_DOCUMENT = {"passport": N_("Passport"), "identity_card": N_("Identity card"),
                     "driving_licence": N_("Driving licence"),
                     "residence_permit": N_("Residence permit")}
METAL_TEST = {"hallmark": N_("Hallmark only"), "touchstone": N_("Touchstone and acid"),
              "xrf": N_("XRF analyser"), "fire_assay": N_("Fire assay"),
              "electronic": N_("Electronic tester")}
BUYIN_LOT_STATUS = {"held": N_("In its hold period"), "melt": N_("Released to the melt"),
                    "stock": N_("Released to stock")}
BUYIN_PAYOUT = {"cash": N_("Cash"), "bank_transfer": N_("Bank transfer"),
                "store_credit": N_("Store credit"), "trade_in": N_("Trade-in against a sale")}
VOCABULARIES.update({"identity_document": IDENTITY_DOCUMENT, "metal_test": METAL_TEST,
                     "buyin_lot_status": BUYIN_LOT_STATUS, "buyin_payout": BUYIN_PAYOUT})
ACCOUNT_KIND.update({"trade_in": N_("Trade-ins not yet spent")})
ACTION.update({"buyin_price": N_("price above the computed buying price")})
KIND.update({"buyin.details": N_("Seller's details for a purchase"),
             "buyin.recorded": N_("Bought from a client"),
             "buyin.released": N_("Bought lot released from its hold"),
             "buyin.report_exported": N_("Purchases report exported")})
FIELDS.update({"identity_documents": N_("Identity documents"),
               "identity_documents[]": N_("Identity document"), "expiry": N_("Expiry"),
               "country": N_("Issuing country"), "lots": N_("Lots"), "lots[]": N_("Lot"),
               "test": N_("How it was tested"), "payout": N_("Paid as"),
               "offered": N_("Price offered"), "document": N_("Identity document"),
               "to": N_("Released to"), "photos": N_("Photos")})

# The card terminal (hub/devices/zvt/): its payments' outcomes and its journal entries.
DEVICE_KIND.update({"terminal": N_("Card terminal")})
TERMINAL_OUTCOME = {"started": N_("In progress"), "approved": N_("Approved"),
                    "declined": N_("Declined"), "aborted": N_("Cancelled on the terminal"),
                    "unknown": N_("Outcome unknown: ask the terminal"),
                    "not_charged": N_("Not charged"), "reversed": N_("Reversed"),
                    "reversal_failed": N_("Reversal failed: a manager must act")}
VOCABULARIES.update({"terminal_outcome": TERMINAL_OUTCOME})
ACTION.update({"card_keyed": N_("card payment typed by hand while the register has a"
                                " terminal")})
KIND.update({"terminal.payment_started": N_("Card payment sent to the terminal"),
             "terminal.payment_unknown": N_("Card payment interrupted"),
             "terminal.payment_ended": N_("Card payment answered by the terminal"),
             "terminal.reversal": N_("Card payment reversed on the terminal"),
             "terminal.day_closed": N_("Card terminal's end of day")})

# Transfers between stores and the warehouse (hub/transfers/): a transfer's state and its
# journal entries.
TRANSFER_STATUS = {"requested": N_("To be sent"), "shipped": N_("On its way"),
                   "received": N_("Received"), "misdelivered": N_("Received at the wrong store"),
                   "overdue": N_("Late: not received in time"), "cancelled": N_("Called off")}
TRANSFER_CONFLICT = {"misdelivered": N_("Received at the wrong store"),
                     "overdue": N_("Not received in time")}
VOCABULARIES.update({"transfer_status": TRANSFER_STATUS, "transfer_conflict": TRANSFER_CONFLICT})
KIND.update({"transfer.requested": N_("Transfer asked for"),
             "transfer.shipped": N_("Shipped to another store"),
             "transfer.expected": N_("On its way to a store (head office's word)"),
             "transfer.received": N_("Received from another store"),
             "transfer.settled": N_("Transfer settled by head office"),
             "transfer.cancelled": N_("Transfer called off")})
FIELDS.update({"to_store": N_("To store"), "from_store": N_("From store"),
               "transfer_id": N_("Transfer")})

# Online orders the web shop sends to be shipped from a store (hub/core/hq.py).
ORDER_STATUS = {"to_ship": N_("To pack and ship"), "shipped": N_("Shipped"),
                "cancelled": N_("Cancelled online")}
VOCABULARIES.update({"order_status": ORDER_STATUS})
TENDER.update({"online": N_("Paid online")})
KIND.update({"hq.online_order": N_("Ordered online, to ship from here"),
             "hq.order_shipped": N_("Shipped to an online client")})
FIELDS.update({"order_id": N_("Online order"), "carrier": N_("Carrier"),
               "tracking": N_("Tracking number"), "scanned": N_("Piece scanned"),
               "ship_to": N_("Ship to")})
