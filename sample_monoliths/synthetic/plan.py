"""Planning: decide every service, table, module and name before any code is written.

The plan is small (a few objects per module) and fully determined by the configuration: one
``random.Random(seed)`` drives it, every collection is a list or an insertion-ordered dict,
and nothing depends on ``hash()`` or set order. Rendering (``render.py``) then turns each
planned module into source text on its own, so files can be streamed to disk one at a time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .vocabulary import (
    ASPECTS,
    DOMAINS,
    ENTITY_SUFFIXES,
    GENERIC_ATTRS,
    GENERIC_VERBS,
    Domain,
    camel,
    pluralize,
    word_list,
)

LAYOUTS = ("mixed", "by-service", "by-layer")

#: Folder of each role (the layer), in the order they are planned.
LAYER_DIRS = {
    "model": "models",
    "repository": "repositories",
    "service": "services",
    "api": "api",
    "task": "tasks",
    "schema": "schemas",
    "event": "events",
}

#: Share of a service's non-model, non-repository modules given to each role.
ROLE_SHARES = (("api", 0.20), ("task", 0.14), ("schema", 0.14), ("event", 0.12))

#: The smallest service: one module each of model, repository, service, api and task.
MIN_MODULES_PER_SERVICE = 5

#: Modules that belong to no service: settings, app, common.db, common.events.
FIXED_SHARED_MODULES = 4

#: Lines per module that ``--lines`` divides by: a little under the measured mean (103-116
#: result lands a little above the target).
MEAN_LINES_PER_MODULE = 100

TASK_SUFFIXES = ("nightly", "hourly", "weekly", "in_batches", "backlog", "on_demand")
HTTP_STYLES = ("item_post", "item_get", "collection_get", "item_post", "item_put")


class ConfigError(ValueError):
    """The options cannot produce a monolith; the message is one sentence for the user."""


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """Everything that decides the generated monolith (equal configs give equal bytes)."""

    services: int = 12
    modules: int = 2000
    seed: int = 0
    noise: float = 0.1
    shared_tables: int | None = None  # None: services // 4
    utility_modules: int = 6
    cross_fks: int | None = None  # None: round(services * noise * 2)
    layout: str = "mixed"
    package: str = "synth"

    @property
    def effective_shared_tables(self) -> int:
        if self.shared_tables is not None:
            return self.shared_tables
        return self.services // 4

    @property
    def effective_cross_fks(self) -> int:
        if self.cross_fks is not None:
            return self.cross_fks
        return round(self.services * self.noise * 2) if self.services > 1 else 0

    def validate(self) -> None:
        """Raise ConfigError naming the first option that cannot work."""
        if not 1 <= self.services <= len(DOMAINS):
            raise ConfigError(
                f"--services must be between 1 and {len(DOMAINS)} "
                f"(the vocabulary has {len(DOMAINS)} domains), got {self.services}"
            )
        if self.utility_modules < 0:
            raise ConfigError(f"--utility-modules must be 0 or more, got {self.utility_modules}")
        needed = min_modules(self.services, self.utility_modules)
        if self.modules < needed:
            raise ConfigError(
                f"--modules {self.modules} is too small for {self.services} services and "
                f"{self.utility_modules} utility modules: use at least {needed}"
            )
        if not 0.0 <= self.noise <= 1.0 or math.isnan(self.noise):
            raise ConfigError(f"--noise must be between 0 and 1, got {self.noise}")
        if self.layout not in LAYOUTS:
            raise ConfigError(
                f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}"
            )
        for name, value in (("--shared-tables", self.shared_tables),
                            ("--cross-fks", self.cross_fks)):
            if value is not None and value < 0:
                raise ConfigError(f"{name} must be 0 or more, got {value}")
            if value and self.services < 2:
                raise ConfigError(f"{name} {value} needs at least 2 services")
        if not self.package.isidentifier() or not self.package.islower():
            raise ConfigError(
                f"--package must be a lowercase Python identifier, got {self.package!r}"
            )


def min_modules(services: int, utility_modules: int) -> int:
    return services * MIN_MODULES_PER_SERVICE + utility_modules + FIXED_SHARED_MODULES


def modules_for_lines(lines: int) -> int:
    """How many modules ``--lines`` asks for."""
    return max(1, math.ceil(lines / MEAN_LINES_PER_MODULE))


# --------------------------------------------------------------------------- plan records


@dataclass(slots=True, eq=False)
class Column:
    name: str
    pytype: str  # annotation inside Mapped[...]
    sqltype: str  # first argument of mapped_column, "" for none
    extra: str = ""  # further mapped_column arguments


@dataclass(slots=True, eq=False)
class Entity:
    """A mapped class and its table."""

    service: Service
    noun: str
    snake: str
    cls: str
    table: str
    columns: list[Column]
    parent: Entity | None = None  # foreign key inside the service
    foreign: list[Entity] = field(default_factory=list)  # foreign keys to other services
    model: Module | None = None
    repo: Module | None = None

    @property
    def plural(self) -> str:
        return pluralize(self.snake)

    @property
    def words(self) -> str:
        return self.snake.replace("_", " ")


@dataclass(slots=True, eq=False)
class Method:
    name: str
    entity: Entity
    verb: str
    with_payload: bool
    style: str = ""  # routes: item_post, item_get, item_put, collection_get; events: class


@dataclass(slots=True, eq=False)
class Module:
    """One generated ``.py`` file of a service (shared modules are fixed templates)."""

    service: Service
    role: str
    name: str  # file stem
    noun: str
    aspect: str
    id: str = ""
    path: str = ""
    entities: list[Entity] = field(default_factory=list)  # model, repository, or used ones
    cls: str = ""  # the main class (service, schema payload, event)
    methods: list[Method] = field(default_factory=list)  # service class public methods
    functions: list[Method] = field(default_factory=list)  # module functions, routes, tasks
    misplaced: list[tuple[Service, Method]] = field(default_factory=list)
    shared_writes: list[Entity] = field(default_factory=list)
    index: int = 0


@dataclass(slots=True, eq=False)
class Service:
    index: int
    domain: Domain
    layout: str  # "by-service" or "by-layer"
    budget: int = 0
    entities: list[Entity] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    by_noun: dict[str, list[Entity]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.domain.name

    def role_modules(self, role: str) -> list[Module]:
        return [m for m in self.modules if m.role == role]


@dataclass(slots=True)
class Utility:
    """A helper module under ``<package>/common``."""

    name: str
    template: str  # key into render.UTILITY_TEMPLATES
    id: str
    path: str


@dataclass(slots=True)
class Plan:
    config: SynthConfig
    services: list[Service]
    modules: list[Module]  # every service module, in writing order
    utilities: list[Utility]
    shared_table_writes: list[tuple[Entity, Service]]
    cross_fks: list[tuple[Entity, Entity]]

    @property
    def package(self) -> str:
        return self.config.package

    @property
    def entities(self) -> list[Entity]:
        return [e for s in self.services for e in s.entities]


# --------------------------------------------------------------------------- planning

MONEY = frozenset(
    word_list(
        "amount balance price unit_cost subtotal total_amount budget excess sum_insured "
        "monthly_rent retainer advance fee estimated_value"
    )
)
INTS = frozenset(
    word_list(
        "quantity on_hand reorder_point hours capacity duration_minutes attempts page_count "
        "bedrooms credits attempts_allowed xp rank elo word_count calories portion_grams "
        "prep_minutes spice_level set_minutes capacity_limit floor_number lead_time_days "
        "window_days batch_size mileage pay_grade"
    )
)
FLOATS = frozenset(
    word_list(
        "tax_rate weight_kg ctr confidence baseline metric_value yield_rate tolerance_mm score "
        "risk_score soil_ph rainfall_mm yield_tonnes hectares kwh voltage peak_load concentration "
        "temperature_c half_life setpoint_c dose_mg floor_area cycle_time mark payload_kg "
        "credits_weight"
    )
)
BOOLS = frozenset(("opted_in", "mfa_enabled", "privileged"))
DATES = frozenset(("eta",))


def column_for(attr: str) -> Column:
    if attr.endswith("_at") or attr in DATES:
        return Column(attr, "datetime | None", "DateTime(timezone=True)", "nullable=True")
    if attr.endswith(("_on", "_date")):
        return Column(attr, "date | None", "Date", "nullable=True")
    if attr.startswith("is_") or attr in BOOLS or attr.endswith("_enabled"):
        return Column(attr, "bool", "Boolean", "default=False")
    if attr in MONEY:
        return Column(attr, "Decimal", "Numeric(12, 2)", 'default=Decimal("0")')
    if attr in INTS:
        return Column(attr, "int", "Integer", "default=0")
    if attr in FLOATS:
        return Column(attr, "float", "Float", "default=0.0")
    if attr == "notes":
        return Column(attr, "str | None", "Text", "nullable=True")
    width = 64 if attr not in ("description", "body", "headline", "title") else 255
    return Column(attr, "str", f"String({width})", 'default=""')


def _split_budget(rng: random.Random, total: int, parts: int, minimum: int) -> list[int]:
    """Split total into parts (each >= minimum) with ±25 % jitter, deterministically."""
    weights = [rng.uniform(0.75, 1.25) for _ in range(parts)]
    spare = total - parts * minimum
    scale = spare / sum(weights)
    raw = [w * scale for w in weights]
    sizes = [math.floor(r) for r in raw]
    left = spare - sum(sizes)
    order = sorted(range(parts), key=lambda i: (sizes[i] - raw[i], i))
    for i in order[:left]:
        sizes[i] += 1
    return [s + minimum for s in sizes]


def _role_counts(rest: int) -> dict[str, int]:
    counts = {"service": 0}
    for role, share in ROLE_SHARES:
        counts[role] = round(rest * share)
    counts["api"] = max(1, counts["api"])
    counts["task"] = max(1, counts["task"])
    while sum(counts.values()) > rest - 1:  # keep at least one service module
        for role in ("event", "schema", "task", "api"):
            if counts[role] > (1 if role in ("api", "task") else 0):
                counts[role] -= 1
                break
    counts["service"] = rest - sum(counts.values())
    return counts


class _Names:
    """Unique ``noun_aspect`` stems for one role of one service."""

    def __init__(self, rng: random.Random, nouns: list[str]) -> None:
        self.pairs = [(n, a) for n in nouns for a in ASPECTS]
        rng.shuffle(self.pairs)
        self.pos = 0
        self.round = 1

    def next(self) -> tuple[str, str, str]:
        if self.pos == len(self.pairs):
            self.pos = 0
            self.round += 1
        noun, aspect = self.pairs[self.pos]
        self.pos += 1
        stem = f"{noun}_{aspect}" if self.round == 1 else f"{noun}_{aspect}_{self.round}"
        return noun, aspect, stem


def _plan_entities(rng: random.Random, service: Service, count: int) -> None:
    nouns = list(service.domain.nouns)
    rng.shuffle(nouns)
    n_base = min(len(nouns), max(1, math.ceil(count * 0.6)))
    base = nouns[:n_base]
    combos = [(n, s) for n in base for s in ENTITY_SUFFIXES]
    dependants = rng.sample(combos, min(len(combos), count - n_base))
    by_noun: dict[str, list[str]] = {n: [] for n in base}
    for noun, suffix in dependants:
        by_noun[noun].append(suffix)
    attrs = list(service.domain.attrs)
    base_entities: list[Entity] = []
    for noun in base:
        for suffix in ["", *sorted(by_noun[noun], key=ENTITY_SUFFIXES.index)]:
            snake = f"{noun}_{suffix}" if suffix else noun
            columns = [column_for(a) for a in sorted(rng.sample(attrs, rng.randint(2, 4)),
                                                      key=attrs.index)]
            columns.append(column_for("status"))
            for extra in GENERIC_ATTRS[1:]:
                if extra == "created_at" or rng.random() < 0.35:
                    columns.append(column_for(extra))
            entity = Entity(service, noun, snake, camel(snake), pluralize(snake), columns)
            if suffix:
                entity.parent = next(e for e in base_entities if e.noun == noun)
            elif base_entities and rng.random() < 0.5:
                entity.parent = rng.choice(base_entities)
            if not suffix:
                base_entities.append(entity)
            service.entities.append(entity)
            service.by_noun.setdefault(noun, []).append(entity)


def _chunks(items: list[Entity], parts: int) -> list[list[Entity]]:
    """Split items (grouped by noun) into at most parts model modules.

    Each noun's entities stay together and are split only when the noun is big; when there
    are more nouns than parts, neighbouring entities are simply cut into equal runs.
    """
    groups: dict[str, list[Entity]] = {}
    for item in items:
        groups.setdefault(item.noun, []).append(item)
    per_part = len(items) / parts
    wanted = [max(1, round(len(g) / per_part)) for g in groups.values()]
    if sum(wanted) <= parts:
        out = []
        for group, k in zip(groups.values(), wanted, strict=True):
            out += _even(group, k)
        return out
    return _even(items, parts)


def _even(items: list[Entity], parts: int) -> list[list[Entity]]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _method_name(used: set[str], verb: str, entity: Entity) -> str:
    name = f"{verb}_{entity.snake}"
    for tail in ("", "_now", "_again", "_for_review", "_in_bulk", "_later"):
        if name + tail not in used:
            used.add(name + tail)
            return name + tail
    k = 2
    while f"{name}_{k}" in used:
        k += 1
    used.add(f"{name}_{k}")
    return f"{name}_{k}"


def _verbs(rng: random.Random, service: Service) -> str:
    pool = service.domain.verbs if rng.random() < 0.65 else GENERIC_VERBS
    return rng.choice(pool)


def _entities_for(rng: random.Random, service: Service, noun: str, k: int) -> list[Entity]:
    """k entities for a module about noun: that noun's own first, then others of the service."""
    own = service.by_noun.get(noun, [])
    picked = own[: max(1, k - 1)]
    for _ in range(8 * k):  # a few draws; small services may not have k entities
        if len(picked) >= k:
            break
        candidate = rng.choice(service.entities)
        if candidate.noun != noun and candidate not in picked:
            picked.append(candidate)
    return picked or [rng.choice(service.entities)]


def _plan_service_modules(rng: random.Random, service: Service) -> None:
    budget = service.budget
    n_entities = max(2, round(budget * 0.18))
    n_entities = min(n_entities, len(service.domain.nouns) * (1 + len(ENTITY_SUFFIXES)))
    _plan_entities(rng, service, n_entities)
    n_models = max(1, min(round(len(service.entities) / 3), (budget - 3) // 2))
    chunks = _chunks(service.entities, n_models)
    for chunk in chunks:
        lead = next((e for e in chunk if e.snake == e.noun), chunk[0])
        model = Module(service, "model", lead.snake, lead.noun, "", entities=chunk)
        repo = Module(service, "repository", lead.snake, lead.noun, "", entities=chunk)
        for entity in chunk:
            entity.model, entity.repo = model, repo
        service.modules += [model, repo]
    counts = _role_counts(budget - 2 * len(chunks))
    base_nouns = [e.noun for e in service.entities if e.snake == e.noun]
    service_used: set[str] = set()  # names other modules import: unique per service
    for role in ("service", "schema", "event", "api", "task"):
        names = _Names(rng, base_nouns)
        for _ in range(counts[role]):
            noun, aspect, stem = names.next()
            module = Module(service, role, stem, noun, aspect)
            _plan_symbols(rng, module, service_used)
            service.modules.append(module)


def _plan_symbols(rng: random.Random, module: Module, service_used: set[str]) -> None:
    service = module.service
    used: set[str] = set()
    if module.role == "service":
        module.cls = camel(module.name) + "Service"
        module.entities = _entities_for(rng, service, module.noun, rng.randint(1, 3))
        for _ in range(rng.randint(4, 9)):
            entity = rng.choice(module.entities)
            verb = _verbs(rng, service)
            module.methods.append(Method(_method_name(used, verb, entity), entity, verb,
                                         rng.random() < 0.5))
        for _ in range(rng.randint(1, 3)):
            entity = rng.choice(module.entities)
            verb = _verbs(rng, service)
            name = f"{verb}_pending_{entity.plural}" if rng.random() < 0.5 else None
            if name is None or name in service_used:
                name = _method_name(service_used, verb, entity)
            service_used.add(name)
            module.functions.append(Method(name, entity, verb, False))
    elif module.role == "schema":
        module.cls = camel(module.name) + "Payload"
        module.entities = _entities_for(rng, service, module.noun, 1)
        entity = module.entities[0]
        module.functions.append(Method(f"validate_{module.name}", entity, "validate", True))
    elif module.role == "event":
        module.entities = _entities_for(rng, service, module.noun, rng.randint(1, 2))
        for _ in range(rng.randint(2, 4)):
            entity = rng.choice(module.entities)
            verb = _verbs(rng, service)
            handler = _method_name(service_used, f"on_{verb}", entity)
            event_cls = camel(handler[3:]) + "Event"
            module.functions.append(Method(handler, entity, verb, False, event_cls))
        module.cls = module.functions[0].style
    elif module.role == "api":
        module.entities = _entities_for(rng, service, module.noun, rng.randint(1, 2))
        for _ in range(rng.randint(4, 8)):
            entity = rng.choice(module.entities)
            style = rng.choice(HTTP_STYLES)
            if style == "collection_get":
                name = f"list_{entity.plural}"
                if name in used:
                    style = "item_get"
                else:
                    used.add(name)
                    module.functions.append(Method(name, entity, "list", False, style))
                    continue
            verb = "show" if style == "item_get" else _verbs(rng, service)
            module.functions.append(Method(_method_name(used, verb, entity), entity, verb,
                                           style != "item_get", style))
    elif module.role == "task":
        module.entities = _entities_for(rng, service, module.noun, rng.randint(1, 2))
        for _ in range(rng.randint(3, 6)):
            entity = rng.choice(module.entities)
            verb = _verbs(rng, service)
            name = f"{verb}_{entity.plural}_{rng.choice(TASK_SUFFIXES)}"
            if name in used:
                name = _method_name(used, verb, entity)
            used.add(name)
            module.functions.append(Method(name, entity, verb, False))


def _place(config: SynthConfig, module: Module) -> None:
    layer = LAYER_DIRS[module.role]
    pkg = config.package
    if module.service.layout == "by-service":
        parts = [pkg, module.service.name, layer, module.name]
    else:
        parts = [pkg, layer, module.name]
    module.id = ".".join(parts)
    module.path = "/".join(parts) + ".py"


UTILITY_NAMES = (
    "text", "clock", "money", "pagination", "validation", "audit", "caching", "ids",
    "flags", "metrics", "retry", "serialization", "http", "auth", "i18n", "ratelimit",
)


def make_plan(config: SynthConfig) -> Plan:
    """Decide everything about the monolith described by config (already validated)."""
    config.validate()
    rng = random.Random(config.seed)
    domain_order = rng.sample(range(len(DOMAINS)), config.services)
    if config.layout == "mixed":
        flips = [i % 2 == 0 for i in range(config.services)]
        rng.shuffle(flips)
        layouts = ["by-service" if f else "by-layer" for f in flips]
    else:
        layouts = [config.layout] * config.services
    services = [Service(i, DOMAINS[d], layouts[i]) for i, d in enumerate(domain_order)]
    budget = config.modules - FIXED_SHARED_MODULES - config.utility_modules
    for service, size in zip(
        services,
        _split_budget(rng, budget, config.services, MIN_MODULES_PER_SERVICE),
        strict=True,
    ):
        service.budget = size
    for service in services:
        _plan_service_modules(rng, service)

    modules = [m for s in services for m in s.modules]
    for i, module in enumerate(modules):
        module.index = i
        _place(config, module)

    utilities = []
    for i in range(config.utility_modules):
        base = UTILITY_NAMES[i % len(UTILITY_NAMES)]
        round_ = i // len(UTILITY_NAMES)
        name = base if round_ == 0 else f"{base}_{round_ + 1}"
        utilities.append(Utility(name, base, f"{config.package}.common.{name}",
                                 f"{config.package}/common/{name}.py"))

    # Cross-service coupling that the truth keeps out of the service boundaries.
    all_entities = [e for s in services for e in s.entities]
    shared_writes: list[tuple[Entity, Service]] = []
    if config.effective_shared_tables:
        if config.effective_shared_tables > len(all_entities):
            raise ConfigError(
                f"--shared-tables {config.effective_shared_tables} is more than the "
                f"{len(all_entities)} tables planned: ask for fewer or add --modules"
            )
        for entity in rng.sample(all_entities, config.effective_shared_tables):
            writer = rng.choice([s for s in services if s is not entity.service])
            target = rng.choice(writer.role_modules("service"))
            target.shared_writes.append(entity)
            shared_writes.append((entity, writer))
    cross: list[tuple[Entity, Entity]] = []
    if config.effective_cross_fks:
        for _ in range(config.effective_cross_fks):
            child = rng.choice(all_entities)
            other = rng.choice([s for s in services if s is not child.service])
            parent = rng.choice([e for e in other.entities if e.snake == e.noun])
            if parent in child.foreign:
                continue
            child.foreign.append(parent)
            cross.append((child, parent))
    # Misplaced functions: written in one service's module, belonging to another.
    misplaced_rate = config.noise / 4
    if config.services > 1 and misplaced_rate > 0:
        for module in modules:
            if module.role == "service" and rng.random() < misplaced_rate:
                owner = rng.choice([s for s in services if s is not module.service])
                entity = rng.choice(owner.entities)
                verb = rng.choice(owner.domain.verbs)
                name = f"{verb}_{entity.snake}_for_{module.aspect}"
                module.misplaced.append((owner, Method(name, entity, verb, False)))
    return Plan(config, services, modules, utilities, shared_writes, cross)
