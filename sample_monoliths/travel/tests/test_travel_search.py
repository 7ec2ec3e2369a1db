"""Searching flights and hotels, and quoting trips (no inventory is touched)."""

import json


def test_search_flights_lists_priced_flights(travel):
    out = travel.ok("search-flights", "--from", "ams", "--to", "LIS", "--date", "2030-07-03",
                    "--pax", "2")
    lines = out.splitlines()
    assert lines[0].split() == ["id", "flight", "departs", "arrives", "seats", "per", "person"]
    assert "TA101" in lines[2] and "2030-07-03T07:40" in lines[2]
    # 89.00 fare + 29.05 Dutch passenger tax, no season in early July
    assert lines[2].endswith("€118.05")


def test_search_flights_json_in_customer_currency_and_season(travel):
    out = travel.ok("search-flights", "--from", "AMS", "--to", "LIS", "--date", "2030-07-12",
                    "--currency", "GBP", "--json")
    (result,) = json.loads(out)
    assert result["flight_no"] == "TA101" and result["currency"] == "GBP"
    # summer peak: 8900 * 1.15 = 10235 + 2905 tax = 13140 EUR cents, at 0.85 GBP/EUR
    assert result["price_cents"] == 11169


def test_search_flights_respects_seats_and_cabin(travel):
    out = travel.ok("search-flights", "--from", "AMS", "--to", "FCO", "--date", "2030-07-03",
                    "--pax", "5")
    assert out.strip() == "no flights found"
    out = travel.ok("search-flights", "--from", "AMS", "--to", "FCO", "--date", "2030-07-03",
                    "--pax", "4")
    assert "TA301" in out
    out = travel.ok("search-flights", "--from", "AMS", "--to", "FCO", "--date", "2030-07-03",
                    "--cabin", "business")
    assert out.strip() == "no flights found"


def test_search_flights_rejects_unknown_airport_and_bad_date(travel):
    code, _, err = travel.run("search-flights", "--from", "AMS", "--to", "ZZZ", "--date",
                              "2030-07-03")
    assert code == 1 and "unknown airport 'ZZZ'" in err
    code, _, err = travel.run("search-flights", "--from", "AMS", "--to", "LIS", "--date",
                              "03/07/2030")
    assert code == 1 and "not a date" in err


def test_search_hotels_for_whole_stay(travel):
    out = travel.ok("search-hotels", "--city", "Lisbon", "--check-in", "2030-07-03",
                    "--check-out", "2030-07-06", "--guests", "2")
    assert "Hotel Alfama" in out and "Double" in out and "Family" in out
    assert "Pensão Pequena" not in out  # single rooms only sleep one
    # 3 nights x 110.00 + 6% IVA + 2.00 tourist tax per night
    assert "€355.80" in out
    out = travel.ok("search-hotels", "--city", "lisbon", "--check-in", "2030-07-03",
                    "--check-out", "2030-07-04", "--json")
    names = [r["hotel"] for r in json.loads(out)]
    assert names[0] == "Pensão Pequena"  # cheapest first


def test_search_hotels_outside_inventory_window(travel):
    # inventory is only open from 2030-06-30 to 2030-07-15
    out = travel.ok("search-hotels", "--city", "Rome", "--check-in", "2030-07-14",
                    "--check-out", "2030-07-18")
    assert out.strip() == "no rooms available"
    code, _, err = travel.run("search-hotels", "--city", "Rome", "--check-in", "2030-07-05",
                              "--check-out", "2030-07-05")
    assert code == 1 and "check-out must be after check-in" in err


def test_quote_prices_trip_and_stores_quote(travel, lisbon_trip):
    out = travel.ok("quote", *lisbon_trip)
    assert "TA101 AMS-LIS" in out and "TA102 LIS-AMS" in out and "Hotel Alfama" in out
    assert "total €806.90" in out
    quote = travel.one("SELECT * FROM price_quotes")
    assert quote["booking_id"] is None
    assert quote["total_cents"] == quote["total_eur_cents"] == 80690
    assert quote["base_cents"] + quote["seasonal_cents"] + quote["taxes_cents"] == 80690
    assert len(json.loads(quote["lines"])) == 3
    # quoting holds nothing
    assert travel.count("seat_holds") == 0 and travel.count("bookings") == 0


def test_quote_in_home_currency_lines_add_up(travel):
    out = travel.ok("quote", "--customer", "bob@example.com",
                    "--flight", travel.flight("TA641", "2030-07-08"),
                    "--room-type", travel.room_type("Midtown Lofts", "King"),
                    "--check-in", "2030-07-08", "--check-out", "2030-07-10")
    quote = travel.one("SELECT * FROM price_quotes")
    assert quote["currency"] == "USD"
    assert f"total ${quote['total_cents'] // 100:,}.{quote['total_cents'] % 100:02d}" in out
    assert quote["taxes_cents"] > 0


def test_quote_rejects_impossible_trips(travel):
    out_flight = travel.flight("TA101", "2030-07-05")
    back_flight = travel.flight("TA102", "2030-07-03")
    code, _, err = travel.run("quote", "--customer", "alice@example.com",
                              "--flight", out_flight, "--flight", back_flight)
    assert code == 1 and "return flight leaves before" in err
    code, _, err = travel.run("quote", "--customer", "alice@example.com")
    assert code == 1 and "at least a flight or a hotel" in err
    code, _, err = travel.run("quote", "--customer", "alice@example.com", "--room-type",
                              travel.room_type("Pensão Pequena", "Single"), "--pax", "2",
                              "--check-in", "2030-07-03", "--check-out", "2030-07-04")
    assert code == 1 and "sleeps 1, not 2" in err
    code, _, err = travel.run("quote", "--customer", "nobody@example.com", "--flight",
                              out_flight)
    assert code == 1 and "no customer" in err
    assert travel.count("price_quotes") == 0
