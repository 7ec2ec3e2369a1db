"""Command line interface: ``python -m travel [--db PATH] COMMAND ...``.

Used by the call centre tooling (it shells out to this), by ops and by cron.
Exit codes: 0 ok, 1 business error (sold out, not found, ...), 2 usage error,
3 payment declined, 4 payment gateway unavailable.
"""

import argparse
import json
import sys

from travel import __version__, reports
from travel.common.errors import TravelError, ValidationError
from travel.common.util import format_money, format_table, to_cents, today
from travel.config import load_settings
from travel.db import init_db, open_db, table_names, transaction
from travel.jobs import runner
from travel.repositories import booking_repo, customer_repo
from travel.seed import seed_demo
from travel.services import booking_engine, inventory, loyalty, pricing


def _print_json(data):
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _trip_request(args, **extra):
    return booking_engine.TripRequest(
        customer_email=args.customer,
        flight_ids=list(args.flight or []),
        cabin=args.cabin,
        passengers=args.pax,
        room_type_id=args.room_type,
        check_in=args.check_in,
        check_out=args.check_out,
        rooms=args.rooms,
        currency=args.currency,
        **extra,
    )


def _cabin_spec(text):
    """``SEATS:FARE`` → (seats, fare in cents), e.g. ``150:89.00``."""
    try:
        seats, fare = text.split(":")
        return int(seats), to_cents(fare)
    except (ValueError, ArithmeticError):
        raise argparse.ArgumentTypeError(f"expected SEATS:FARE, got {text!r}") from None


# ---------------------------------------------------------------- commands


def cmd_init_db(conn, args, settings):
    init_db(conn)
    print(f"initialised {args.db}: {len(table_names(conn))} tables")
    return 0


def cmd_seed_demo(conn, args, settings):
    start = args.start or today().isoformat()
    counts = seed_demo(conn, start, args.days)
    print(f"seeded {counts['flights']} flights, {counts['hotels']} hotels, "
          f"{counts['customers']} customers from {start}")
    return 0


def cmd_add_customer(conn, args, settings):
    customer_id = customer_repo.create(conn, args.name, args.email, args.currency)
    customer = customer_repo.get(conn, customer_id)
    print(f"customer {customer_id} created: {customer['email']} ({customer['home_currency']})")
    return 0


def cmd_search_flights(conn, args, settings):
    results = booking_engine.search_flights(conn, args.origin, args.destination, args.date,
                                            args.pax, args.cabin, args.currency)
    if args.json:
        _print_json(results)
        return 0
    if not results:
        print("no flights found")
        return 0
    print(format_table(
        [(r["flight_id"], r["flight_no"], r["departs_at"], r["arrives_at"], r["available"],
          format_money(r["price_cents"], r["currency"])) for r in results],
        ["id", "flight", "departs", "arrives", "seats", "per person"],
    ))
    return 0


def cmd_search_hotels(conn, args, settings):
    results = booking_engine.search_hotels(conn, args.city, args.check_in, args.check_out,
                                           args.guests, args.rooms, args.currency)
    if args.json:
        _print_json(results)
        return 0
    if not results:
        print("no rooms available")
        return 0
    print(format_table(
        [(r["room_type_id"], r["hotel"], "*" * r["stars"], r["room"], r["available"],
          format_money(r["price_cents"], r["currency"])) for r in results],
        ["id", "hotel", "stars", "room", "left", "stay"],
    ))
    return 0


def cmd_quote(conn, args, settings):
    quote = booking_engine.quote_trip(conn, _trip_request(args))
    rows = [(line.description, format_money(total, quote.currency))
            for line, total in zip(quote.lines, quote.line_totals, strict=True)]
    print(format_table(rows, ["item", "price"]))
    print(f"base {format_money(quote.base_cents, quote.currency)}, "
          f"season {format_money(quote.seasonal_cents, quote.currency)}, "
          f"taxes {format_money(quote.taxes_cents, quote.currency)}")
    print(f"total {format_money(quote.total_cents, quote.currency)}")
    return 0


def cmd_book_trip(conn, args, settings):
    req = _trip_request(args, card_token=args.card, pay_later=args.pay_later,
                        use_points=args.use_points)
    result = booking_engine.book_trip(conn, req, settings)
    if result.status == "held":
        print(f"booking {result.reference} held until {result.hold_expires_at}: "
              f"{format_money(result.total_cents, result.currency)} to pay")
    else:
        print(f"booking {result.reference} confirmed: charged "
              f"{format_money(result.charged_cents, result.currency)} of "
              f"{format_money(result.total_cents, result.currency)}, "
              f"{result.points_earned} points earned")
    return 0


def cmd_pay_booking(conn, args, settings):
    result = booking_engine.pay_booking(conn, args.reference, args.card, settings,
                                        use_points=args.use_points)
    print(f"booking {result.reference} confirmed: charged "
          f"{format_money(result.charged_cents, result.currency)}, "
          f"{result.points_earned} points earned")
    return 0


def cmd_cancel_booking(conn, args, settings):
    outcome = booking_engine.cancel_booking(conn, args.reference, settings, args.reason)
    print(f"booking {outcome['reference']} cancelled, refunded "
          f"{format_money(outcome['refunded_cents'], outcome['currency'])} "
          f"({outcome['refund_pct']}%)")
    return 0


def cmd_show_booking(conn, args, settings):
    summary = booking_engine.booking_summary(conn, args.reference)
    if args.json:
        _print_json(summary)
        return 0
    b = summary["booking"]
    print(f"{b['reference']}  {b['status']}  {summary['customer']['name']} "
          f"<{summary['customer']['email']}>")
    print(f"trip {b['trip_start']} .. {b['trip_end']}")
    print(format_table(
        [(i["kind"], i["description"], format_money(i["amount_cents"], b["currency"]))
         for i in summary["items"]],
        ["kind", "item", "amount"],
    ))
    print(f"total {format_money(b['total_cents'], b['currency'])}  "
          f"paid {format_money(b['paid_cents'], b['currency'])}  "
          f"refunded {format_money(b['refunded_cents'], b['currency'])}")
    return 0


def cmd_list_bookings(conn, args, settings):
    customer_id = customer_repo.get_by_email(conn, args.customer)["id"] if args.customer else None
    rows = booking_repo.search(conn, customer_id, args.status, args.limit)
    if not rows:
        print("no bookings")
        return 0
    print(format_table(
        [(r["reference"], r["status"], r["email"], r["trip_start"], r["items"],
          format_money(r["total_cents"], r["currency"])) for r in rows],
        ["reference", "status", "customer", "trip", "items", "total"],
    ))
    return 0


def cmd_cancel_flight(conn, args, settings):
    outcome = booking_engine.cancel_flight(conn, args.flight_id, settings)
    print(f"flight {outcome['flight_no']} cancelled; {outcome['bookings']} booking(s) "
          f"cancelled and refunded")
    return 0


def cmd_add_flight(conn, args, settings):
    capacities, fares = {}, {}
    for cabin in ("economy", "business"):
        spec = getattr(args, cabin)
        if spec:
            capacities[cabin], fares[cabin] = spec
    if not capacities:
        raise ValidationError("give at least --economy SEATS:FARE")
    flight_id = inventory.add_flight(conn, args.flight_no, args.origin, args.destination,
                                     args.departs, args.arrives, capacities, fares)
    print(f"flight {args.flight_no} added with id {flight_id}")
    return 0


def _room_spec(text):
    """``NAME:GUESTS:RATE:ROOMS`` → tuple, e.g. ``Double:2:110.00:10``."""
    try:
        name, guests, rate, rooms = text.split(":")
        return name, int(guests), to_cents(rate), int(rooms)
    except (ValueError, ArithmeticError):
        raise argparse.ArgumentTypeError(
            f"expected NAME:GUESTS:RATE:ROOMS, got {text!r}") from None


def cmd_add_hotel(conn, args, settings):
    if not args.room:
        raise ValidationError("give at least one --room NAME:GUESTS:RATE:ROOMS")
    hotel_id = inventory.add_hotel(conn, args.name, args.city, args.country.upper(),
                                   args.airport.upper(), args.stars, args.room,
                                   args.first_night, args.nights)
    print(f"hotel {args.name} added with id {hotel_id}, {len(args.room)} room type(s), "
          f"{args.nights} night(s) open")
    return 0


def cmd_set_exchange_rate(conn, args, settings):
    with transaction(conn):
        pricing.set_exchange_rate(conn, args.currency, args.rate)
    print(f"1 EUR = {args.rate} {args.currency.upper()}")
    return 0


def cmd_loyalty_statement(conn, args, settings):
    customer = customer_repo.get_by_email(conn, args.email)
    data = loyalty.statement(conn, customer["id"], args.limit)
    if args.json:
        _print_json(data)
        return 0
    print(f"{customer['name']}: {data['tier']} tier, {data['balance']} points "
          f"({data['lifetime']} lifetime)")
    if data["next_tier"]:
        print(f"{data['points_to_next_tier']} points to {data['next_tier']}")
    if data["transactions"]:
        print(format_table(
            [(t["created_at"], t["kind"], t["points"], t["reference"] or "", t["note"] or "")
             for t in data["transactions"]],
            ["when", "kind", "points", "booking", "note"],
        ))
    return 0


def cmd_run_jobs(conn, args, settings):
    outcomes = runner.run_jobs(conn, settings, args.limit, recurring=args.recurring)
    for o in outcomes:
        print(f"job {o.job_id} {o.kind}: {o.status} - {o.message}")
    print(f"{len(outcomes)} job(s) run")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_enqueue_job(conn, args, settings):
    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"--payload is not JSON: {exc}") from None
    job_id = runner.enqueue(conn, args.kind, payload, args.run_at)
    print(f"job {job_id} queued: {args.kind}")
    return 0


def cmd_report(conn, args, settings):
    func = reports.REPORTS[args.kind]
    if args.kind in ("ledger", "loyalty"):
        rows = func(conn)
    else:
        if not (args.date_from and args.date_to):
            raise ValidationError(f"the {args.kind} report needs --from and --to")
        rows = func(conn, args.date_from, args.date_to)
    if args.json:
        _print_json(rows)
    else:
        print(reports.render(args.kind, rows))
    return 0


# ------------------------------------------------------------------ parser


def _add_trip_arguments(p):
    p.add_argument("--customer", required=True, help="customer e-mail")
    p.add_argument("--flight", type=int, action="append", help="flight id (outbound, return)")
    p.add_argument("--cabin", default="economy", choices=inventory.CABINS)
    p.add_argument("--pax", type=int, default=1, help="passengers / guests")
    p.add_argument("--room-type", type=int, help="room type id")
    p.add_argument("--check-in")
    p.add_argument("--check-out")
    p.add_argument("--rooms", type=int, default=1)
    p.add_argument("--currency", help="defaults to the customer's home currency")


def build_parser():
    parser = argparse.ArgumentParser(prog="travel", description="TravelAir booking platform")
    parser.add_argument("--db", help="SQLite database file (default $TRAVEL_DB or travel.db)")
    parser.add_argument("--version", action="version", version=f"travel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init-db", help="create the tables")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("seed-demo", help="load demo flights, hotels and customers")
    p.add_argument("--start", help="first flight day (default today)")
    p.add_argument("--days", type=int, default=14)
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("add-customer", help="register a customer")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--currency", default="EUR")
    p.set_defaults(func=cmd_add_customer)

    p = sub.add_parser("search-flights", help="find flights with free seats")
    p.add_argument("--from", dest="origin", required=True)
    p.add_argument("--to", dest="destination", required=True)
    p.add_argument("--date", required=True)
    p.add_argument("--pax", type=int, default=1)
    p.add_argument("--cabin", default="economy", choices=inventory.CABINS)
    p.add_argument("--currency", default="EUR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search_flights)

    p = sub.add_parser("search-hotels", help="find rooms for a stay")
    p.add_argument("--city", required=True)
    p.add_argument("--check-in", required=True)
    p.add_argument("--check-out", required=True)
    p.add_argument("--guests", type=int, default=1)
    p.add_argument("--rooms", type=int, default=1)
    p.add_argument("--currency", default="EUR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search_hotels)

    p = sub.add_parser("quote", help="price a trip without booking it")
    _add_trip_arguments(p)
    p.set_defaults(func=cmd_quote)

    p = sub.add_parser("book-trip", help="book flights and/or a hotel")
    _add_trip_arguments(p)
    pay = p.add_mutually_exclusive_group()
    pay.add_argument("--card", help="card token from the payment page")
    pay.add_argument("--pay-later", action="store_true", help="hold and pay within the hour")
    p.add_argument("--use-points", type=int, default=0, help="loyalty points to redeem")
    p.set_defaults(func=cmd_book_trip)

    p = sub.add_parser("pay-booking", help="pay a held booking")
    p.add_argument("reference")
    p.add_argument("--card", required=True)
    p.add_argument("--use-points", type=int, default=0)
    p.set_defaults(func=cmd_pay_booking)

    p = sub.add_parser("cancel-booking", help="cancel and refund a booking")
    p.add_argument("reference")
    p.add_argument("--reason", default="customer request")
    p.set_defaults(func=cmd_cancel_booking)

    p = sub.add_parser("show-booking", help="everything about a booking")
    p.add_argument("reference")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show_booking)

    p = sub.add_parser("list-bookings", help="bookings by customer and status")
    p.add_argument("--customer", help="customer e-mail")
    p.add_argument("--status", action="append", help="repeat for several statuses")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list_bookings)

    p = sub.add_parser("cancel-flight", help="ops: cancel a flight and all its bookings")
    p.add_argument("flight_id", type=int)
    p.set_defaults(func=cmd_cancel_flight)

    p = sub.add_parser("add-flight", help="ops: schedule a flight")
    p.add_argument("--flight-no", required=True)
    p.add_argument("--from", dest="origin", required=True)
    p.add_argument("--to", dest="destination", required=True)
    p.add_argument("--departs", required=True, help="YYYY-MM-DDTHH:MM")
    p.add_argument("--arrives", required=True, help="YYYY-MM-DDTHH:MM")
    p.add_argument("--economy", type=_cabin_spec, metavar="SEATS:FARE")
    p.add_argument("--business", type=_cabin_spec, metavar="SEATS:FARE")
    p.set_defaults(func=cmd_add_flight)

    p = sub.add_parser("add-hotel", help="hotel desk: add a hotel and open its rooms")
    p.add_argument("--name", required=True)
    p.add_argument("--city", required=True)
    p.add_argument("--country", required=True, help="ISO code, for taxes")
    p.add_argument("--airport", required=True, help="nearest airport code")
    p.add_argument("--stars", type=int, default=3)
    p.add_argument("--room", type=_room_spec, action="append", metavar="NAME:GUESTS:RATE:ROOMS")
    p.add_argument("--first-night", required=True)
    p.add_argument("--nights", type=int, default=30)
    p.set_defaults(func=cmd_add_hotel)

    p = sub.add_parser("set-exchange-rate", help="treasury: units of CURRENCY per EUR")
    p.add_argument("currency")
    p.add_argument("rate", type=float)
    p.set_defaults(func=cmd_set_exchange_rate)

    p = sub.add_parser("loyalty-statement", help="points, tier and recent activity")
    p.add_argument("email")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loyalty_statement)

    p = sub.add_parser("run-jobs", help="run due background jobs")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--recurring", action="store_true",
                   help="also schedule the recurring jobs (what cron does)")
    p.set_defaults(func=cmd_run_jobs)

    p = sub.add_parser("enqueue-job", help="queue a background job by hand")
    p.add_argument("kind")
    p.add_argument("--payload", default="{}")
    p.add_argument("--run-at", help="ISO timestamp (default now)")
    p.set_defaults(func=cmd_enqueue_job)

    p = sub.add_parser("report", help="management reports")
    p.add_argument("kind", choices=sorted(reports.REPORTS))
    p.add_argument("--from", dest="date_from")
    p.add_argument("--to", dest="date_to")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)

    return parser


_parser = None


def get_parser():
    """The parser is built once per process (the call-centre bridge calls main() a lot)."""
    global _parser
    if _parser is None:
        _parser = build_parser()
    return _parser


def main(argv=None):
    """Run one command; returns the process exit code."""
    args = get_parser().parse_args(argv)
    settings = load_settings(args.db)
    args.db = settings.db_path
    with open_db(args.db) as conn:
        try:
            return args.func(conn, args, settings)
        except TravelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
