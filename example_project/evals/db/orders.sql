-- The orders database of the example shop, a small slice of what support agents look up.
-- evals/conftest.py builds orders.sqlite from this file when it is missing or older, and the
-- built-in `sqlite` checker runs the eval set's queries against it read-only
-- (policy.checkers.sqlite.database in support.evalmix.yaml). Edit this file, not the .sqlite.

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    customer     TEXT NOT NULL,
    placed_on    TEXT NOT NULL,   -- ISO 8601 dates
    delivered_on TEXT,            -- NULL while in transit
    carrier      TEXT NOT NULL,
    shipping     REAL NOT NULL    -- what the customer paid for shipping
);

CREATE TABLE order_items (
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    sku        TEXT NOT NULL,
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    unit_price REAL NOT NULL,
    PRIMARY KEY (order_id, sku)
);

INSERT INTO orders VALUES
    (48213, 'c-1042', '2026-10-09', '2026-10-14', 'UPS',   4.95),
    (50310, 'c-2211', '2026-10-20', '2026-10-24', 'DHL',   0.00),
    (51877, 'c-0317', '2026-10-28', '2026-11-02', 'DPD',   6.50),
    (52406, 'c-1042', '2026-11-12', NULL,         'UPS',   4.95);

INSERT INTO order_items VALUES
    (48213, 'MUG-SET3',  'Stoneware mugs, set of 3',  1, 58.50),
    (50310, 'KETTLE-1',  'Gooseneck kettle',          1, 74.00),
    (50310, 'FILTER-100','Paper filters, 100 pack',   2,  6.25),
    (51877, 'SOCK-RUN-M','Running socks, 3 pairs, M', 2, 14.95),
    (52406, 'BLENDER-2', 'Compact blender',           1, 89.90);
