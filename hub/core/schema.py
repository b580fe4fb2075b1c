"""The core's tables: pieces, stones, stock lines, clients, sales, returns, closures and the
search index, with their forward migrations (area `core`; see `hub/ledger/schema.py`)."""

from __future__ import annotations

from hub.ledger.schema import Migration, Schema

_CORE_V1 = """
-- projections ------------------------------------------------------------------------------

CREATE TABLE items (
    item_id         TEXT PRIMARY KEY,      -- the store-unique serial
    sku             TEXT NOT NULL,
    epc             TEXT UNIQUE,
    description     TEXT NOT NULL,
    category        TEXT NOT NULL,
    metal           TEXT,
    fineness        INTEGER,               -- parts per thousand (750 = 18 kt)
    karat           INTEGER,
    metal_colour    TEXT,
    metal_weight_mg INTEGER,
    designer        TEXT,
    collection      TEXT,
    cost            INTEGER NOT NULL,
    tag_price       INTEGER NOT NULL,
    tax_code        TEXT NOT NULL,
    ownership       TEXT NOT NULL,         -- owned | memo | consignment
    vendor          TEXT,
    location        TEXT NOT NULL,
    status          TEXT NOT NULL,
    status_ref      TEXT,                  -- the sale, memo, repair or reservation holding it
    received_seq    INTEGER NOT NULL,
    updated_seq     INTEGER NOT NULL
);
CREATE INDEX items_status ON items(status, category);
CREATE INDEX items_location ON items(location);
CREATE INDEX items_sku ON items(sku);

CREATE TABLE item_stones (
    item_id     TEXT NOT NULL,
    pos         INTEGER NOT NULL,          -- 0 is the centre stone
    type        TEXT NOT NULL,
    carat_cents INTEGER NOT NULL,          -- 1/100 ct
    shape       TEXT,
    colour      TEXT,
    clarity     TEXT,
    lab         TEXT,
    certificate TEXT,
    PRIMARY KEY (item_id, pos)
);
CREATE INDEX item_stones_type ON item_stones(type);

CREATE TABLE stock_lines (
    sku         TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    category    TEXT NOT NULL,
    unit_price  INTEGER NOT NULL,
    tax_code    TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY,
    status      TEXT NOT NULL,             -- active | forgotten | merged (core v8)
    profile_seq INTEGER,                   -- entry holding the current (encrypted) profile
    created_seq INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL
);

CREATE TABLE client_lookup (
    blind     BLOB NOT NULL,               -- HMAC of a normalised phone or e-mail
    client_id TEXT NOT NULL,
    PRIMARY KEY (blind, client_id)
);

CREATE TABLE register_counters (
    register_id     TEXT PRIMARY KEY,
    last_receipt_no INTEGER NOT NULL
);

CREATE TABLE sales (
    sale_id     TEXT PRIMARY KEY,
    register_id TEXT NOT NULL,
    receipt_no  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    ts          TEXT NOT NULL,
    associate   TEXT NOT NULL,
    client_id   TEXT,
    currency    TEXT NOT NULL,
    subtotal    INTEGER NOT NULL,
    discount    INTEGER NOT NULL,
    tax         INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    status      TEXT NOT NULL,             -- completed | voided | partly_returned | returned
    UNIQUE (register_id, receipt_no)
);
CREATE INDEX sales_client ON sales(client_id, seq);

CREATE TABLE sale_lines (
    sale_id      TEXT NOT NULL,
    line_no      INTEGER NOT NULL,
    item_id      TEXT,
    sku          TEXT,
    description  TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    unit_price   INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    tax_code     TEXT NOT NULL,
    tax          INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    returned_qty INTEGER NOT NULL,
    PRIMARY KEY (sale_id, line_no)
);
CREATE INDEX sale_lines_item ON sale_lines(item_id);

CREATE TABLE sale_tenders (
    sale_id TEXT NOT NULL,
    pos     INTEGER NOT NULL,
    type    TEXT NOT NULL,
    amount  INTEGER NOT NULL,
    detail  TEXT NOT NULL,                 -- JSON: card brand, last 4, auth code; gift card no.
    PRIMARY KEY (sale_id, pos)
);

CREATE TABLE returns (
    return_id   TEXT PRIMARY KEY,
    sale_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- return | void
    register_id TEXT NOT NULL,
    receipt_no  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    refund      INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    UNIQUE (register_id, receipt_no)
);
CREATE INDEX returns_sale ON returns(sale_id);
"""

# v2: an item's history became one indexed query (the journal index by subject misses the
# sales, returns and counts that touch a piece under another subject).
_CORE_V2 = """
CREATE TABLE item_history (
    item_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (item_id, seq)
) WITHOUT ROWID;
"""

# v3: daily closures (Z reports).
_CORE_V3 = """
CREATE TABLE closures (
    z_no        INTEGER PRIMARY KEY,       -- gapless, from 1
    seq         INTEGER NOT NULL,          -- the day.closed entry
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    from_seq    INTEGER NOT NULL,          -- covers seq in (from_seq, through_seq]
    through_seq INTEGER NOT NULL,
    report      TEXT NOT NULL              -- JSON totals (no personal data)
);
"""

# v4: search indexes that end in item_id, so a filtered, paged stock list walks one index in
# serial order and stops after a page instead of sorting every match.
_CORE_V4 = """
DROP INDEX items_status;
DROP INDEX items_location;
CREATE INDEX items_status_serial ON items(status, item_id);
CREATE INDEX items_category_serial ON items(category, item_id);
CREATE INDEX items_location_serial ON items(location, item_id);
CREATE INDEX items_designer_serial ON items(designer, item_id);
CREATE INDEX items_metal_serial ON items(metal, item_id);
"""

# v5: full-text search over each piece's non-personal text (never anything about clients).
# One row per piece, rowid = the piece's received_seq (stable across VACUUM, unlike the
# items table's implicit rowid); kept by the core's item handlers in the entry's transaction.
# unicode61 with remove_diacritics 2 folds case and accents (Kōno = kono). The prefix indexes
# answer prefixes of 2 to 8 letters from one doclist each; without them FTS5 merges the
# doclists of every word a prefix starts ("diam"* copied every diamond piece: 1.4 ms at
# 100,000 pieces, against 0.08 ms). detail=column: no word positions (so no phrase queries:
# the words of a search match in any order anyway), which keeps the index at 25 MB for
# 100,000 pieces instead of 42 MB and walks a common word's doclist up to twice as fast.
_CORE_V5 = """
CREATE UNIQUE INDEX items_received ON items(received_seq);
CREATE VIRTUAL TABLE items_fts USING fts5(
    serial, sku, description, category, metal, designer, collection, stones,
    prefix='2 3 4 5 6 7 8', detail=column, tokenize='unicode61 remove_diacritics 2'
);
-- The index's words (no storage of its own): which longer words a prefix would find.
CREATE VIRTUAL TABLE items_fts_terms USING fts5vocab(items_fts, row);
"""

# v6: the filter indexes carry the other filter columns after the serial. A stock list
# filtered three ways walks one filter's index in serial order and checks the others from
# the index entry itself, reading a piece's row only when it matches (rings in tray B in
# palladium at 100,000 pieces: 14 ms down to 3 ms, for 4% more file).
_CORE_V6 = """
DROP INDEX items_category_serial;
DROP INDEX items_location_serial;
DROP INDEX items_designer_serial;
DROP INDEX items_metal_serial;
CREATE INDEX items_category_serial
    ON items(category, item_id, metal, location, designer, status, tag_price, fineness);
CREATE INDEX items_location_serial
    ON items(location, item_id, category, metal, designer, status, tag_price, fineness);
CREATE INDEX items_designer_serial
    ON items(designer, item_id, category, metal, location, status, tag_price, fineness);
CREATE INDEX items_metal_serial
    ON items(metal, item_id, category, location, designer, status, tag_price, fineness);
"""

# v7: sales by when they were made (the day's follow-ups ask for the sales of a few days).
_CORE_V7 = """
CREATE INDEX sales_ts ON sales(ts);
"""

# v8: a client merged into another points to her (`Clients.merge`); the status says merged.
_CORE_V8 = """
ALTER TABLE clients ADD COLUMN merged_into TEXT;
CREATE INDEX clients_merged ON clients(merged_into) WHERE merged_into IS NOT NULL;
"""

# v9: a sale line may be a service a layer sells (a repair's charge: `service` = job:J12).
_CORE_V9 = """
ALTER TABLE sale_lines ADD COLUMN service TEXT;
"""

# v10: pieces priced by the gram (hub/core/prices.py): the rule, the rate that priced it (as
# named on every price: metal, fineness, per gram, validity, HQ message) and the price its
# tag shows; sale lines keep their rate, quote and promotions; quotes; held rate moves a
# manager accepted.
_CORE_V10 = """
ALTER TABLE items ADD COLUMN pricing TEXT;            -- JSON rule, NULL for a fixed price
ALTER TABLE items ADD COLUMN price_rate TEXT;         -- JSON: the rate that priced it
ALTER TABLE items ADD COLUMN price_rate_seq INTEGER;  -- the entry that brought that rate
ALTER TABLE items ADD COLUMN tag_printed_price INTEGER;
CREATE INDEX items_priced ON items(metal, item_id) WHERE pricing IS NOT NULL;
ALTER TABLE sale_lines ADD COLUMN priced TEXT;        -- JSON: rate, quote, promotions
CREATE TABLE price_quotes (
    quote_id    TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL,
    client_id   TEXT,
    unit_price  INTEGER NOT NULL,
    rate        TEXT,
    valid_until TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX price_quotes_item ON price_quotes(item_id, seq);
CREATE TABLE rate_acceptances (
    message_id   TEXT PRIMARY KEY,
    held_seq     INTEGER NOT NULL,
    accepted_seq INTEGER NOT NULL
);
"""

# v11: each active client's index card (hub/core/clients.py `index_card`): the fields the
# name index reads, sealed with her own key like her profile. The start opens these (a
# sixth of the profile's bytes) instead of every profile; the rebuild writes them.
_CORE_V11 = """
ALTER TABLE clients ADD COLUMN card BLOB;
"""


CORE = Schema("core", (Migration(1, _CORE_V1), Migration(2, _CORE_V2, rebuild=True),
                       Migration(3, _CORE_V3, rebuild=True), Migration(4, _CORE_V4),
                       Migration(5, _CORE_V5, rebuild=True), Migration(6, _CORE_V6),
                       Migration(7, _CORE_V7), Migration(8, _CORE_V8),
                       Migration(9, _CORE_V9), Migration(10, _CORE_V10, rebuild=True),
                       Migration(11, _CORE_V11, rebuild=True)),
              projections=("items", "item_stones", "item_history", "items_fts", "stock_lines",
                           "clients", "client_lookup", "register_counters", "sales",
                           "sale_lines", "sale_tenders", "returns", "closures", "price_quotes",
                           "rate_acceptances"))


