"""Maintenance commands: ``flask --app shop.app <command>``.

Cron on the web host runs ``run-worker`` every minute, ``expire-orders`` and
``sales-report --snapshot`` nightly; the others are run by hand.
"""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from shop.db import create_schema, drop_schema, get_session, transaction
from shop.errors import ShopError
from shop.reporting import exports, sales
from shop.seed import seed_demo
from shop.services import accounts, billing, catalog, core, fulfilment, stock
from shop.tasks.queue import run_worker
from shop.utils.dates import date_range, parse_date, today
from shop.utils.money import MoneyError, format_money, to_cents


def _date_option(value: str | None, default_days_ago: int) -> object:
    try:
        return parse_date(value) or today() - timedelta(days=default_days_ago)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("init-db")
@click.option("--drop", is_flag=True, help="Drop all tables first (development only!).")
@with_appcontext
def init_db_command(drop: bool) -> None:
    """Create all tables (existing tables are left alone)."""
    if drop:
        if not current_app.debug and not current_app.testing:
            raise click.ClickException("refusing to drop tables outside development")
        drop_schema()
    create_schema()
    click.echo("database initialised")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo warehouses, products, customers and coupons."""
    with transaction() as session:
        summary = seed_demo(session)
    if summary["skipped"]:
        click.echo("database already has products; nothing seeded")
    else:
        click.echo(f"seeded {summary['products']} products, {summary['units']} units, "
                   f"{summary['customers']} customers, {summary['coupons']} coupons")


@click.command("import-products")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@click.option("--warehouse", default=None, help="Warehouse for initial stock (default: DEFAULT_WAREHOUSE).")
@click.option("--dry-run", is_flag=True, help="Validate the file without importing.")
@with_appcontext
def import_products_command(csv_file: click.utils.LazyFile, warehouse: str | None, dry_run: bool) -> None:
    """Import or update products from a supplier CSV (sku,name,price,category,weight_grams,stock)."""
    rows, errors = catalog.parse_product_csv(csv_file)
    for error in errors:
        click.echo(f"skipped {error}", err=True)
    if dry_run:
        click.echo(f"{len(rows)} valid rows, {len(errors)} errors (dry run)")
        return
    session = get_session()
    result = catalog.import_products(session, rows, warehouse_code=warehouse, actor="import-products")
    session.commit()
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
               f"errors {len(errors)}")
    if errors and not rows:
        raise SystemExit(1)


@click.command("run-worker")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
@with_appcontext
def run_worker_command(max_jobs: int | None) -> None:
    """Run queued background jobs until the queue is empty."""
    stats = run_worker(current_app._get_current_object(), max_jobs=max_jobs)  # type: ignore[attr-defined]
    click.echo(f"processed {stats.processed}: {stats.succeeded} ok, {stats.retried} retried, {stats.dead} dead")


@click.command("expire-orders")
@click.option("--days", type=int, default=None, help="Grace period (default: UNPAID_ORDER_EXPIRY_DAYS).")
@with_appcontext
def expire_orders_command(days: int | None) -> None:
    """Cancel unpaid invoice orders past the grace period."""
    numbers = core.expire_unpaid_orders(get_session(), days)
    click.echo(f"cancelled {len(numbers)} unpaid orders" + (": " + ", ".join(numbers) if numbers else ""))


@click.command("check-orders")
@with_appcontext
def check_orders_command() -> None:
    """Report orders whose totals or reservations do not add up."""
    from shop.models import Order  # local import: only this command needs the model

    session = get_session()
    problems = core.check_order_consistency(session, session.query(Order).order_by(Order.id).all())
    for problem in problems:
        click.echo(problem)
    click.echo(f"{len(problems)} problems")
    if problems:
        raise SystemExit(1)


@click.command("release-stale-reservations")
@click.option("--days", type=int, default=1)
@with_appcontext
def release_stale_reservations_command(days: int) -> None:
    """Release stock still reserved for cancelled or refunded orders."""
    with transaction() as session:
        released = stock.release_stale_reservations(session, days)
    click.echo(f"released {released} reservations")


@click.command("sync-tracking")
@with_appcontext
def sync_tracking_command() -> None:
    """Pull new carrier scans for every shipment in transit."""
    session = get_session()
    new = sum(fulfilment.sync_tracking(session, s) for s in fulfilment.shipments_in_transit(session))
    session.commit()
    click.echo(f"{new} new tracking events")


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Queue payment reminders for overdue invoices."""
    session = get_session()
    sent = billing.send_payment_reminders(session)
    session.commit()
    click.echo(f"{sent} reminders queued")


@click.command("grant-credit")
@click.argument("email")
@click.argument("amount")
@click.option("--reason", required=True)
@with_appcontext
def grant_credit_command(email: str, amount: str, reason: str) -> None:
    """Give a customer store credit, e.g. ``grant-credit alice@example.com 15.00 --reason "late parcel"``."""
    session = get_session()
    customer = accounts.find_customer_by_email(session, email)
    if customer is None:
        raise click.ClickException(f"no customer {email}")
    try:
        cents = to_cents(amount)
    except MoneyError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        accounts.grant_store_credit(session, customer, cents, reason, "cli")
    except ShopError as exc:
        raise click.ClickException(exc.message) from None
    session.commit()
    click.echo(f"{customer.email} now has {format_money(customer.store_credit_cents)} store credit")


@click.command("create-coupon")
@click.option("--code", default=None)
@click.option("--kind", type=click.Choice(accounts.COUPON_KINDS), required=True)
@click.option("--value", type=int, default=0, help="Percent, or cents for fixed coupons.")
@click.option("--min-order", "min_order_cents", type=int, default=0)
@click.option("--max-redemptions", type=int, default=None)
@click.option("--expires", "expires_at", default=None, help="ISO timestamp.")
@with_appcontext
def create_coupon_command(code: str | None, kind: str, value: int, min_order_cents: int,
                          max_redemptions: int | None, expires_at: str | None) -> None:
    """Create a campaign coupon."""
    session = get_session()
    try:
        coupon = accounts.create_coupon(session, {
            "code": code, "kind": kind, "value": value, "min_order_cents": min_order_cents,
            "max_redemptions": max_redemptions, "expires_at": expires_at,
        })
    except ShopError as exc:
        raise click.ClickException(exc.message) from None
    session.commit()
    click.echo(coupon.code)


@click.command("sales-report")
@click.option("--start", default=None, help="YYYY-MM-DD (default: 7 days ago).")
@click.option("--end", default=None, help="YYYY-MM-DD (default: today).")
@click.option("--snapshot", is_flag=True, help="Also write the daily_sales rows.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def sales_report_command(start: str | None, end: str | None, snapshot: bool, as_json: bool) -> None:
    """Print sales per day."""
    session = get_session()
    first, last = _date_option(start, 7), _date_option(end, 0)
    rows = sales.sales_by_day(session, first, last)  # type: ignore[arg-type]
    if snapshot:
        for day in date_range(first, last):  # type: ignore[arg-type]
            sales.snapshot_day(session, day)
        session.commit()
    if as_json:
        click.echo(json.dumps({"days": rows, "totals": sales.sales_totals(rows)}, indent=2))
        return
    click.echo(f"{'day':<12}{'orders':>8}{'items':>8}{'net':>14}")
    for row in rows:
        click.echo(f"{row['day']:<12}{row['orders']:>8}{row['items']:>8}{format_money(row['net_cents']):>14}")
    totals = sales.sales_totals(rows)
    click.echo(f"{'total':<12}{totals['orders']:>8}{totals['items']:>8}{format_money(totals['net_cents']):>14}")


@click.command("export-orders")
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-")
@with_appcontext
def export_orders_command(start: str | None, end: str | None, output: click.utils.LazyFile) -> None:
    """Write the finance order export (CSV)."""
    count = exports.export_orders_csv(get_session(), _date_option(start, 30), _date_option(end, 0),  # type: ignore[arg-type]
                                      output)
    click.echo(f"{count} rows", err=True)


@click.command("export-stock")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-")
@with_appcontext
def export_stock_command(output: click.utils.LazyFile) -> None:
    """Write the stock valuation (CSV)."""
    count = exports.export_stock_csv(get_session(), output)
    click.echo(f"{count} rows", err=True)


COMMANDS = [
    init_db_command,
    seed_demo_command,
    import_products_command,
    run_worker_command,
    expire_orders_command,
    check_orders_command,
    release_stale_reservations_command,
    sync_tracking_command,
    send_reminders_command,
    grant_credit_command,
    create_coupon_command,
    sales_report_command,
    export_orders_command,
    export_stock_command,
]


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
