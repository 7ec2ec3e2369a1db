"""The words a synthetic monolith is written in.

Every planted service draws its identifiers from its own *domain*: a name (used only for the
package in the by-service layout and as the service's name in the truth file), a dozen nouns
(the entities and tables), a few verbs (the operations) and attributes (the columns). Nouns
are single words, unique across all domains, and pluralise regularly, so a table name, a
class name or a module name always tells which domain it came from, as it would in a
well-kept code base. The generic words below (aspects, entity suffixes, generic verbs) are
shared by every domain, as the words "history" or "export" are in real code.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Domain:
    """One business area a planted service is made of."""

    name: str
    summary: str
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    attrs: tuple[str, ...]


def word_list(text: str) -> tuple[str, ...]:
    """The words of text (word lists read better as one string)."""
    return tuple(text.split())


def _domain(name: str, summary: str, nouns: str, verbs: str, attrs: str) -> Domain:
    return Domain(name, summary, tuple(nouns.split()), tuple(verbs.split()), tuple(attrs.split()))


#: All domains, in the order services are drawn from them (service i gets DOMAINS[i]).
DOMAINS: tuple[Domain, ...] = (
    _domain(
        "billing",
        "Invoices, ledgers, taxes and refunds.",
        "invoice ledger tax refund payment receipt credit statement charge discount voucher "
        "remittance",
        "bill settle reconcile void issue reimburse",
        "amount currency due_date tax_rate balance paid_at",
    ),
    _domain(
        "shipping",
        "Shipments, parcels, carriers and delivery routes.",
        "shipment parcel carrier route manifest waybill depot pallet consignment courier "
        "label container",
        "ship dispatch deliver reroute consolidate track",
        "weight_kg tracking_code eta destination service_level shipped_at",
    ),
    _domain(
        "inventory",
        "Warehouses, stock levels, reservations and replenishment.",
        "warehouse bin sku lot reservation replenishment stocktake aisle bay quarantine "
        "relocation cycle",
        "reserve replenish allocate restock recount quarantine",
        "quantity on_hand reorder_point location_code expiry_date unit_cost",
    ),
    _domain(
        "catalog",
        "Products, categories, brands and what buyers browse.",
        "product category brand variant collection listing bundle swatch taxonomy facet "
        "badge gallery",
        "publish categorize feature merchandise curate unpublish",
        "title slug price gtin description is_published",
    ),
    _domain(
        "customers",
        "Customer accounts, contacts, addresses and consent.",
        "customer account contact address household preference segment consent profile "
        "membership tier referral",
        "register verify enroll deactivate reactivate anonymize",
        "email phone full_name birth_date locale opted_in",
    ),
    _domain(
        "ordering",
        "Carts, checkouts, orders and coupons.",
        "order cart checkout quote backorder fulfillment cancellation wishlist preorder "
        "subscription promotion coupon",
        "place amend fulfil confirm split redeem",
        "placed_at subtotal channel priority total_amount gift_message",
    ),
    _domain(
        "identity",
        "Users, roles, permissions and credentials.",
        "user role permission credential token grant tenant invitation device login passkey "
        "realm",
        "authenticate authorize revoke rotate invite impersonate",
        "username password_hash last_login_at mfa_enabled scopes expires_at",
    ),
    _domain(
        "workforce",
        "Employees, departments, timesheets and hiring.",
        "employee department position timesheet absence appraisal benefit salary shift "
        "vacancy candidate interview",
        "hire onboard promote appraise roster terminate",
        "hire_date job_title hours start_date pay_grade is_contractor",
    ),
    _domain(
        "support",
        "Tickets, escalations, agents and service levels.",
        "ticket complaint agent escalation macro sla conversation survey faq inbox "
        "transcript callback",
        "escalate triage resolve reopen respond acknowledge",
        "subject severity opened_at resolution first_response_at is_urgent",
    ),
    _domain(
        "marketing",
        "Campaigns, audiences, newsletters and leads.",
        "campaign audience newsletter lead funnel creative impression click conversion "
        "sponsor banner keyword",
        "launch nurture convert retarget broadcast personalize",
        "budget start_on utm_source ctr reach headline",
    ),
    _domain(
        "analytics",
        "Dashboards, charts, cohorts and forecasts.",
        "dashboard chart kpi cohort dataset widget dimension forecast anomaly benchmark "
        "heatmap pivot",
        "aggregate plot rollup backfill extrapolate drilldown",
        "window_days granularity confidence baseline computed_at metric_value",
    ),
    _domain(
        "scheduling",
        "Appointments, bookings, slots and calendars.",
        "appointment booking slot calendar venue room timetable availability waitlist "
        "recurrence holiday attendee",
        "book reschedule remind overbook stagger block",
        "starts_at ends_at capacity timezone duration_minutes is_recurring",
    ),
    _domain(
        "documents",
        "Documents, folders, revisions and signatures.",
        "document folder revision signature annotation scan watermark clause stamp "
        "redaction binder envelope",
        "sign redact notarize watermark countersign digitize",
        "filename mime_type page_count checksum signed_at is_confidential",
    ),
    _domain(
        "notifications",
        "Notifications, recipients, outboxes and webhooks.",
        "notification recipient outbox bounce pager webhook alert mailing suppression sender "
        "footer pushnote",
        "notify deliver_later suppress unsubscribe throttle render",
        "sent_at attempts template_key body locale_code is_transactional",
    ),
    _domain(
        "fleet",
        "Vehicles, drivers, trips and maintenance.",
        "vehicle driver trip odometer garage tyre inspection refuel breakdown lease permit "
        "axle",
        "drive refuel service tow inspect decommission",
        "plate_number mileage fuel_type last_service_on payload_kg is_active",
    ),
    _domain(
        "manufacturing",
        "Work orders, assemblies, machines and scrap.",
        "workorder assembly machine tooling fixture downtime scrap operator spindle mould "
        "jig kiln",
        "assemble machine calibrate retool inspect_batch scrap",
        "cycle_time yield_rate tolerance_mm batch_size started_at is_rework",
    ),
    _domain(
        "procurement",
        "Suppliers, tenders, bids and requisitions.",
        "supplier tender bid requisition rfq vendor quotation award contract buyer accreditation "
        "debarment",
        "tender award requisition shortlist negotiate accredit",
        "estimated_value closes_on lead_time_days incoterm score is_preferred",
    ),
    _domain(
        "learning",
        "Courses, lessons, enrollments and exams.",
        "course lesson enrollment assessment learner instructor certificate lecture semester "
        "classroom tutor exam",
        "enroll grade certify tutor withdraw examine",
        "credits passed_at mark attempts_allowed language is_mandatory",
    ),
    _domain(
        "clinical",
        "Patients, prescriptions, wards and admissions.",
        "patient prescription clinician ward admission allergy vaccine symptom dosage specimen "
        "bed discharge",
        "admit prescribe discharge vaccinate diagnose refer",
        "mrn blood_type admitted_at dose_mg is_critical ward_code",
    ),
    _domain(
        "insurance",
        "Premiums, claims, underwriting and coverage.",
        "premium claim underwriter coverage beneficiary deductible adjuster endorsement rider "
        "peril insured annuity",
        "underwrite adjudicate indemnify endorse lapse renew",
        "sum_insured excess claimed_at risk_score policy_number is_lapsed",
    ),
    _domain(
        "estates",
        "Landlords, tenancies, buildings and rents.",
        "landlord tenancy apartment building viewing deposit rent mortgage valuation "
        "floorplan amenity letting",
        "let evict appraise_rent sublet furnish vacate",
        "monthly_rent bedrooms floor_area postcode let_on is_furnished",
    ),
    _domain(
        "travel",
        "Itineraries, flights, hotels and fares.",
        "itinerary flight hotel traveler fare seat layover visa passport excursion airline "
        "lounge",
        "fly reprice upgrade rebook check_in ticket_fare",
        "departs_at arrives_at cabin_class iata_code fare_basis is_refundable",
    ),
    _domain(
        "kitchen",
        "Menus, dishes, recipes and ingredients.",
        "menu dish recipe ingredient chef tasting allergen pantry serving dessert garnish "
        "brigade",
        "cook plate season prep garnish_dish compost",
        "calories portion_grams prep_minutes cuisine spice_level is_vegan",
    ),
    _domain(
        "legal",
        "Matters, hearings, filings and settlements.",
        "matter lawsuit hearing verdict barrister docket filing subpoena affidavit witness "
        "settlement jurisdiction",
        "litigate subpoena depose appeal file_motion settle_matter",
        "court_name filed_on docket_number retainer privileged is_sealed",
    ),
    _domain(
        "energy",
        "Meters, tariffs, outages and the grid.",
        "meter tariff outage substation feeder turbine transformer pylon microgrid inverter "
        "battery consumption",
        "meter_read curtail energize isolate balance_load islanding",
        "kwh voltage peak_load read_at feeder_code is_renewable",
    ),
    _domain(
        "farming",
        "Farms, crops, harvests and herds.",
        "farm crop harvest orchard herd tractor silo irrigation fertilizer seedling paddock "
        "pasture",
        "plant irrigate harvest_crop graze fertilize rotate_crop",
        "hectares sown_on yield_tonnes soil_ph rainfall_mm is_organic",
    ),
    _domain(
        "festivals",
        "Festivals, performers, stages and wristbands.",
        "festival performer stage lineup encore setlist turnstile wristband usher promoter "
        "headliner soundcheck",
        "headline perform admit_guest soundcheck_stage scan_wristband promote",
        "gates_open_at capacity_limit genre fee set_minutes is_sold_out",
    ),
    _domain(
        "laboratory",
        "Assays, reagents, cultures and instruments.",
        "assay reagent pipette centrifuge microscope incubator culture beaker titration "
        "notebook isotope enzyme",
        "assay_sample incubate centrifuge_sample titrate culture_sample sterilize",
        "concentration temperature_c lot_number measured_at half_life is_hazardous",
    ),
    _domain(
        "publishing",
        "Articles, authors, manuscripts and royalties.",
        "article author editor manuscript chapter byline imprint galley royalty isbn edition "
        "translation",
        "edit proofread typeset commission syndicate retract",
        "word_count published_on genre_code advance is_embargoed pen_name",
    ),
    _domain(
        "gaming",
        "Players, guilds, quests and tournaments.",
        "player guild quest achievement leaderboard avatar trophy tournament clan wager emote "
        "lobby",
        "matchmake respawn reward ban_player queue_player level_up",
        "xp rank elo region last_seen_at is_banned",
    ),
    _domain(
        "compliance",
        "Regulations, attestations, breaches and screening.",
        "regulation attestation breach sanction disclosure whistleblower exemption licence "
        "certification watchlist screening control",
        "attest screen sanction_party disclose certify_control exempt",
        "regulator due_on risk_rating jurisdiction_code reported_at is_material",
    ),
    _domain(
        "facilities",
        "Boilers, elevators, desks and building upkeep.",
        "boiler elevator janitor keycard locker sprinkler thermostat rota workstation desk "
        "corridor fuse",
        "maintain unlock hot_desk service_boiler patrol badge_in",
        "floor_number serial_number installed_on setpoint_c last_checked_at is_faulty",
    ),
)

#: Generic second words of module names (``invoice_history``, ``parcel_export``).
ASPECTS: tuple[str, ...] = word_list(
    """
    admin archive backlog bulk cleanup console digest exports feed forms history imports
    index lifecycle lookup maintenance matching merge overview preview queries ranking
    reminders reports review rules search snapshot stats status summary sync timeline
    tracking transitions updates validation views workflow intake outreach
    """
)

#: Generic second words of dependent entities (``InvoiceLine`` → ``invoice_lines``).
ENTITY_SUFFIXES: tuple[str, ...] = word_list(
    """
    line note event attachment version log tag setting period entry comment approval
    mapping flag score limit schedule share alias hold assignment quota link
    """
)

#: Generic verbs every domain uses besides its own.
GENERIC_VERBS: tuple[str, ...] = word_list(
    """
    create update approve cancel archive review sync export close reopen validate
    recalculate assign flag merge refresh
    """
)

#: Column names every table may carry besides its domain's attributes.
GENERIC_ATTRS: tuple[str, ...] = ("status", "reference", "created_at", "updated_at", "notes")

#: Status values written into ``status`` columns and compared against in code.
STATUSES: tuple[str, ...] = (
    "draft", "pending", "active", "approved", "closed", "cancelled", "archived", "failed",
)


def pluralize(word: str) -> str:
    """English plural for the regular words the vocabulary is restricted to."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def camel(snake: str) -> str:
    """``invoice_line`` → ``InvoiceLine``."""
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def words_problems() -> list[str]:
    """Everything wrong with the word lists (tests assert this is empty)."""
    problems: list[str] = []
    seen_nouns: dict[str, str] = {}
    generic = set(ASPECTS) | set(ENTITY_SUFFIXES)
    names = [d.name for d in DOMAINS]
    if len(set(names)) != len(names):
        problems.append("domain names repeat")
    for domain in DOMAINS:
        if len(domain.nouns) < 8 or len(domain.verbs) < 4 or len(domain.attrs) < 4:
            problems.append(f"{domain.name}: too few words")
        for noun in domain.nouns:
            if not noun.isalpha() or not noun.islower():
                problems.append(f"{domain.name}: noun {noun!r} is not one lowercase word")
            if noun in seen_nouns:
                problems.append(f"noun {noun!r} in {seen_nouns[noun]} and {domain.name}")
            seen_nouns[noun] = domain.name
            if noun in generic or noun in names:
                problems.append(f"noun {noun!r} is also a generic word or a domain name")
        for word in (*domain.nouns, *domain.verbs, *domain.attrs, domain.name):
            if keyword.iskeyword(word) or keyword.issoftkeyword(word):
                problems.append(f"{word!r} is a Python keyword")
        if len(set(domain.attrs)) != len(domain.attrs) or set(domain.attrs) & set(
            GENERIC_ATTRS
        ):
            problems.append(f"{domain.name}: attributes repeat")
    for word in (*ASPECTS, *ENTITY_SUFFIXES, *GENERIC_VERBS):
        if keyword.iskeyword(word) or keyword.issoftkeyword(word):
            problems.append(f"{word!r} is a Python keyword")
    return problems
