"""Parcel carriers: shipping quotes, labels and tracking.

We only ever had one carrier contract at a time, so the code assumes one configured carrier
(``CARRIER_BACKEND``). :class:`FlatRateCarrier` implements the rate card of the current
contract and fakes labels and tracking until the carrier's API credentials arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app

from shop.utils.dates import add_business_days, today, utcnow
from shop.utils.ids import tracking_number
from shop.utils.loading import instantiate

EXTENSION_KEY = "shop.carrier"

DOMESTIC = {"DE"}
ZONE_1 = {"AT", "NL", "BE", "FR"}
ZONE_2 = {"IT", "ES", "GB"}


@dataclass
class Quote:
    carrier: str
    service_level: str
    cost_cents: int
    transit_days: int

    def estimated_delivery(self, shipped_on: date | None = None) -> date:
        return add_business_days(shipped_on or today(), self.transit_days)


@dataclass
class Label:
    carrier: str
    tracking_number: str
    label_url: str


class Carrier:
    code = "XX"
    service_levels = ("standard", "express")

    def quote(self, weight_grams: int, country: str, service_level: str = "standard") -> Quote:
        raise NotImplementedError

    def create_label(self, weight_grams: int, country: str, service_level: str) -> Label:
        raise NotImplementedError

    def track(self, tracking: str) -> list[dict[str, str]]:
        raise NotImplementedError


class FlatRateCarrier(Carrier):
    """Rate card 2024: price by zone and weight band, express costs double."""

    code = "DHL"

    # (max weight in grams, cents) per zone
    RATES = {
        "domestic": [(2_000, 490), (5_000, 690), (10_000, 990), (31_500, 1_690)],
        "zone1": [(2_000, 1_390), (5_000, 1_690), (10_000, 2_190), (31_500, 3_490)],
        "zone2": [(2_000, 1_790), (5_000, 2_290), (10_000, 2_990), (31_500, 4_490)],
    }
    TRANSIT_DAYS = {"domestic": 2, "zone1": 4, "zone2": 6}

    def __init__(self) -> None:
        # tracking number -> list of scripted events; tests and the sandbox push to it
        self.events: dict[str, list[dict[str, str]]] = {}

    @staticmethod
    def zone_for(country: str) -> str:
        if country in DOMESTIC:
            return "domestic"
        if country in ZONE_1:
            return "zone1"
        if country in ZONE_2:
            return "zone2"
        raise ValueError(f"no rate for destination {country}")

    def quote(self, weight_grams: int, country: str, service_level: str = "standard") -> Quote:
        if service_level not in self.service_levels:
            raise ValueError(f"unknown service level {service_level}")
        zone = self.zone_for(country)
        for max_weight, cents in self.RATES[zone]:
            if weight_grams <= max_weight:
                break
        else:
            raise ValueError(f"parcel too heavy: {weight_grams} g")
        transit = self.TRANSIT_DAYS[zone]
        if service_level == "express":
            cents *= 2
            transit = max(1, transit // 2)
        return Quote(self.code, service_level, cents, transit)

    def create_label(self, weight_grams: int, country: str, service_level: str) -> Label:
        self.quote(weight_grams, country, service_level)  # validates the destination
        number = tracking_number(self.code)
        self.events[number] = [{"status": "label_created", "location": "BER",
                                "at": utcnow().isoformat()}]
        return Label(self.code, number, f"https://labels.example/{number}.pdf")

    def push_event(self, tracking: str, status: str, location: str = "") -> None:
        self.events.setdefault(tracking, []).append(
            {"status": status, "location": location, "at": utcnow().isoformat()}
        )

    def track(self, tracking: str) -> list[dict[str, str]]:
        return list(self.events.get(tracking, []))


def load_carrier(app: Flask | None = None) -> Carrier:
    app = app or current_app
    carrier = app.extensions.get(EXTENSION_KEY)
    if carrier is None:
        carrier = instantiate(app.config["CARRIER_BACKEND"])
        app.extensions[EXTENSION_KEY] = carrier
    return carrier
