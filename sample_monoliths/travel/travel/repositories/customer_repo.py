"""Customers.  Creating one also opens its loyalty account (same transaction)."""

from travel import queries
from travel.common.errors import NotFound, ValidationError
from travel.common.util import now_iso
from travel.db import transaction


def get(conn, customer_id):
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        raise NotFound(f"no customer with id {customer_id}")
    return row


def get_by_email(conn, email):
    row = conn.execute(queries.SELECT_CUSTOMER_BY_EMAIL, (email.lower(),)).fetchone()
    if row is None:
        raise NotFound(f"no customer with e-mail {email!r}")
    return row


def create(conn, name, email, home_currency="EUR"):
    """Insert a customer and a blue-tier loyalty account for them."""
    if "@" not in email:
        raise ValidationError(f"not an e-mail address: {email!r}")
    ts = now_iso()
    with transaction(conn):
        exists = conn.execute(queries.SELECT_CUSTOMER_BY_EMAIL, (email.lower(),)).fetchone()
        if exists is not None:
            raise ValidationError(f"customer {email} already exists")
        customer_id = conn.execute(
            "INSERT INTO customers (name, email, home_currency, created_at) VALUES (?, ?, ?, ?)",
            (name, email.lower(), home_currency.upper(), ts),
        ).lastrowid
        # loyalty wanted every customer to have an account from day one
        conn.execute(
            "INSERT INTO loyalty_accounts (customer_id, points_balance, lifetime_points, tier, "
            "updated_at) VALUES (?, 0, 0, 'blue', ?)",
            (customer_id, ts),
        )
    return customer_id
