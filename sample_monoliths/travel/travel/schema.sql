-- Travel booking platform schema.
--
-- Applied with executescript() by travel.db.init_db().  Every statement is
-- idempotent (IF NOT EXISTS / INSERT OR IGNORE) so `init-db` can be re-run
-- against a live database after a deploy.  Money is always stored as integer
-- cents; the "currency" column says which currency the cents are in.

PRAGMA foreign_keys = ON;

-- ---------------------------------------------------------------- flights
CREATE TABLE IF NOT EXISTS airports (
    code        TEXT PRIMARY KEY,          -- IATA code, e.g. AMS
    city        TEXT NOT NULL,
    country     TEXT NOT NULL              -- ISO 3166 alpha-2, used by tax rules
);

CREATE TABLE IF NOT EXISTS flights (
    id          INTEGER PRIMARY KEY,
    flight_no   TEXT NOT NULL,
    carrier     TEXT NOT NULL DEFAULT 'TA',
    origin      TEXT NOT NULL REFERENCES airports(code),
    destination TEXT NOT NULL REFERENCES airports(code),
    departs_at  TEXT NOT NULL,             -- local time, ISO 8601 without zone
    arrives_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'scheduled',
    UNIQUE (flight_no, departs_at)
);
CREATE INDEX IF NOT EXISTS ix_flights_route ON flights (origin, destination, departs_at);

-- seats per cabin; held + sold can never exceed capacity
CREATE TABLE IF NOT EXISTS flight_inventory (
    flight_id   INTEGER NOT NULL REFERENCES flights(id),
    cabin       TEXT NOT NULL,             -- economy | business
    capacity    INTEGER NOT NULL,
    held        INTEGER NOT NULL DEFAULT 0,
    sold        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flight_id, cabin),
    CHECK (held >= 0 AND sold >= 0 AND held + sold <= capacity)
);

CREATE TABLE IF NOT EXISTS seat_holds (
    id          INTEGER PRIMARY KEY,
    booking_id  INTEGER NOT NULL REFERENCES bookings(id),
    flight_id   INTEGER NOT NULL REFERENCES flights(id),
    cabin       TEXT NOT NULL,
    seats       INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'held',  -- held | sold | released
    expires_at  TEXT,
    created_at  TEXT NOT NULL
);

-- ----------------------------------------------------------------- hotels
CREATE TABLE IF NOT EXISTS hotels (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    city         TEXT NOT NULL,
    country      TEXT NOT NULL,
    airport_code TEXT REFERENCES airports(code),
    stars        INTEGER NOT NULL DEFAULT 3
);

CREATE TABLE IF NOT EXISTS room_types (
    id              INTEGER PRIMARY KEY,
    hotel_id        INTEGER NOT NULL REFERENCES hotels(id),
    name            TEXT NOT NULL,
    max_guests      INTEGER NOT NULL DEFAULT 2,
    base_rate_cents INTEGER NOT NULL       -- per night, EUR; pricing reads this
);

CREATE TABLE IF NOT EXISTS room_inventory (
    room_type_id INTEGER NOT NULL REFERENCES room_types(id),
    night        TEXT NOT NULL,            -- YYYY-MM-DD, the night starting that day
    total        INTEGER NOT NULL,
    held         INTEGER NOT NULL DEFAULT 0,
    sold         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_type_id, night),
    CHECK (held >= 0 AND sold >= 0 AND held + sold <= total)
);

CREATE TABLE IF NOT EXISTS room_holds (
    id           INTEGER PRIMARY KEY,
    booking_id   INTEGER NOT NULL REFERENCES bookings(id),
    room_type_id INTEGER NOT NULL REFERENCES room_types(id),
    check_in     TEXT NOT NULL,
    check_out    TEXT NOT NULL,
    rooms        INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'held',
    expires_at   TEXT,
    created_at   TEXT NOT NULL
);

-- --------------------------------------------------------------- bookings
CREATE TABLE IF NOT EXISTS customers (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    home_currency TEXT NOT NULL DEFAULT 'EUR',
    created_at    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS bookings (
    id              INTEGER PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    status          TEXT NOT NULL,         -- pending | held | confirmed | cancelled | expired | completed
    currency        TEXT NOT NULL DEFAULT 'EUR',
    total_cents     INTEGER NOT NULL DEFAULT 0,
    paid_cents      INTEGER NOT NULL DEFAULT 0,   -- written by payments
    refunded_cents  INTEGER NOT NULL DEFAULT 0,   -- written by payments
    points_redeemed INTEGER NOT NULL DEFAULT 0,
    points_earned   INTEGER NOT NULL DEFAULT 0,
    trip_start      TEXT,
    trip_end        TEXT,
    hold_expires_at TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_bookings_customer ON bookings (customer_id);
CREATE INDEX IF NOT EXISTS ix_bookings_status ON bookings (status, hold_expires_at);

CREATE TABLE IF NOT EXISTS booking_items (
    id           INTEGER PRIMARY KEY,
    booking_id   INTEGER NOT NULL REFERENCES bookings(id),
    kind         TEXT NOT NULL,            -- flight | hotel
    ref_id       INTEGER NOT NULL,         -- flights.id or room_types.id
    description  TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL DEFAULT 0
);

-- the one work queue of the monolith, polled by travel.jobs.runner
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    run_at      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',   -- pending | running | done | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_jobs_due ON jobs (status, run_at);

-- ---------------------------------------------------------------- pricing
CREATE TABLE IF NOT EXISTS fares (
    id         INTEGER PRIMARY KEY,
    flight_id  INTEGER NOT NULL REFERENCES flights(id),
    cabin      TEXT NOT NULL,
    base_cents INTEGER NOT NULL,           -- per passenger, EUR
    UNIQUE (flight_id, cabin)
);

CREATE TABLE IF NOT EXISTS seasonal_rules (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    applies_to     TEXT NOT NULL,          -- flight | hotel | any
    starts_on      TEXT NOT NULL,
    ends_on        TEXT NOT NULL,
    adjustment_pct INTEGER NOT NULL        -- +20 means 20% more expensive
);

CREATE TABLE IF NOT EXISTS tax_rules (
    id         INTEGER PRIMARY KEY,
    country    TEXT NOT NULL,
    applies_to TEXT NOT NULL,              -- flight | hotel
    name       TEXT NOT NULL,
    rate_bp    INTEGER NOT NULL DEFAULT 0, -- basis points of the net price
    flat_cents INTEGER NOT NULL DEFAULT 0  -- per passenger (flight) or per room-night (hotel)
);

CREATE TABLE IF NOT EXISTS exchange_rates (
    currency     TEXT PRIMARY KEY,
    units_per_eur REAL NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS price_quotes (
    id            INTEGER PRIMARY KEY,
    booking_id    INTEGER REFERENCES bookings(id),
    currency      TEXT NOT NULL,
    base_cents    INTEGER NOT NULL,
    seasonal_cents INTEGER NOT NULL,
    taxes_cents   INTEGER NOT NULL,
    total_cents   INTEGER NOT NULL,
    total_eur_cents INTEGER NOT NULL,
    lines         TEXT NOT NULL,           -- JSON list of priced lines
    created_at    TEXT NOT NULL
);

-- --------------------------------------------------------------- payments
CREATE TABLE IF NOT EXISTS payments (
    id           INTEGER PRIMARY KEY,
    booking_id   INTEGER NOT NULL REFERENCES bookings(id),
    method       TEXT NOT NULL,            -- card | points
    amount_cents INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,            -- captured | refunded | partially_refunded
    gateway_ref  TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS refunds (
    id           INTEGER PRIMARY KEY,
    payment_id   INTEGER NOT NULL REFERENCES payments(id),
    amount_cents INTEGER NOT NULL,
    reason       TEXT,
    created_at   TEXT NOT NULL
);

-- every attempt, including declined ones (written outside the booking transaction)
CREATE TABLE IF NOT EXISTS payment_attempts (
    id                INTEGER PRIMARY KEY,
    customer_id       INTEGER,
    booking_reference TEXT,
    amount_cents      INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    outcome           TEXT NOT NULL,       -- approved | declined | error
    message           TEXT,
    created_at        TEXT NOT NULL
);

-- ---------------------------------------------------------------- loyalty
CREATE TABLE IF NOT EXISTS loyalty_tiers (
    name                TEXT PRIMARY KEY,
    min_points          INTEGER NOT NULL,
    earn_multiplier_pct INTEGER NOT NULL,
    sort_order          INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS loyalty_accounts (
    customer_id     INTEGER PRIMARY KEY REFERENCES customers(id),
    points_balance  INTEGER NOT NULL DEFAULT 0,
    lifetime_points INTEGER NOT NULL DEFAULT 0,
    tier            TEXT NOT NULL DEFAULT 'blue' REFERENCES loyalty_tiers(name),
    updated_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS loyalty_transactions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    booking_id  INTEGER REFERENCES bookings(id),
    kind        TEXT NOT NULL,             -- earn | bonus | redeem | clawback | restore
    points      INTEGER NOT NULL,          -- signed
    note        TEXT,
    created_at  TEXT NOT NULL
);

INSERT OR IGNORE INTO loyalty_tiers (name, min_points, earn_multiplier_pct, sort_order) VALUES
    ('blue', 0, 100, 1),
    ('silver', 2000, 125, 2),
    ('gold', 10000, 150, 3);

-- ---------------------------------------------------------- notifications
CREATE TABLE IF NOT EXISTS notifications (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    booking_id  INTEGER REFERENCES bookings(id),
    channel     TEXT NOT NULL DEFAULT 'email',
    template    TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'queued',    -- queued | sent
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
