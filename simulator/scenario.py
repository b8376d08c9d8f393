"""The validated, frozen description of one scenario.

Money is in MSEK per year unless a field name says otherwise (``fee_ksek`` is
kSEK per member per year). Every model forbids unknown keys and is frozen, so a
``Scenario`` can be shared between processes and hashed into a manifest.

Cross-field rules (a project naming an unknown cluster, a table outside the
horizon, ...) are checked by :func:`scenario_problems`, which reports every
problem at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt

MAX_MONEY = 1e6
"""The largest amount a config may give (MSEK, or kSEK for fees): a million MSEK, far above
any cluster's or the programme's budget; larger inputs only overflow the arithmetic."""
MAX_MEMBERS = 100_000
"""The most members a cluster may start with or grow to (the model holds each one)."""
Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Year = Annotated[int, Field(ge=1900, le=2100)]
Area = Literal["smart_materials", "smart_sustainable_cities", "personal_health"]
AREAS: tuple[Area, ...] = get_args(Area)
CLUSTER_ID = re.compile(r"[A-Za-z0-9_-]+")
"""What a cluster id may hold: it is a segment of key paths (``clusters.<id>.members``,
``base_funding.overrides.<id>``, patterns such as ``clusters.*.private_income``), which
are split at dots, and it is joined by ``CLUSTER_SEPARATOR`` in text fields."""
CLUSTER_SEPARATOR = ";"
"""Joins cluster ids in one text field: a project's clusters in projects.csv and
allocation.csv, and the two clusters of an open-call affinity key (``"a;b"``)."""


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are refused, instances are frozen, and
    every number is finite (no model value gives ``inf`` or ``nan`` a meaning: an open
    end, such as no ceiling, is an absent key)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- schedules --------------------------------------------------------------


class TaperSchedule(StrictModel):
    """Linear fall from ``start`` in the programme's first year to ``floor`` in
    ``floor_year``; held at ``floor`` in every later year."""

    kind: Literal["taper"]
    start: Money
    """Value in the programme's first year (MSEK)."""
    floor: Money
    """Value reached in ``floor_year`` and held after it (MSEK)."""
    floor_year: Year
    """Year in which the floor is reached."""


class RampSchedule(StrictModel):
    """Linear change from ``from_value`` in ``from_year`` to ``to_value`` in
    ``to_year``; ``from_value`` before, ``to_value`` held after."""

    kind: Literal["ramp"]
    from_value: Money
    """Value up to and including ``from_year`` (MSEK)."""
    to_value: Money
    """Value in ``to_year`` and every later year (MSEK)."""
    from_year: Year
    """First year of the ramp."""
    to_year: Year
    """Last year of the ramp."""


class HoldSchedule(StrictModel):
    """The same value every year."""

    kind: Literal["hold"]
    value: Money
    """Value in every year (MSEK)."""


class FundingRule(StrictModel):
    """A cluster's base money set each year from its books of the year before.

    In this order (later steps win)::

        amount = max(matching_rate_fees * fee_income + matching_rate_private * private_income,
                     floor)
                 + bonus                      if members >= bonus_min_members
        amount = min(amount, ceiling)         (no ceiling when not given)
        amount = min(amount, max_turnover_share * turnover)

    where fee income, private income, members and turnover (total income: all five
    sources, the regional base and arena money included) are last year's. The
    turnover cap binds even below the floor; the ceiling also caps the bonus.
    """

    matching_rate_fees: NonNegativeFloat = 0.0
    """MSEK of base per MSEK of last year's membership fees."""
    matching_rate_private: NonNegativeFloat = 0.0
    """MSEK of base per MSEK of last year's private income (sponsors, services, events)."""
    floor: Money = 0.0
    """Least amount (MSEK/year), before the bonus and the turnover cap."""
    ceiling: Money | None = None
    """Most amount (MSEK/year), bonus included; none when not given."""
    max_turnover_share: Share = 1.0
    """The amount is at most this share of last year's total income."""
    bonus: Money = 0.0
    """Extra amount (MSEK/year) when the cluster met the member target last year."""
    bonus_min_members: NonNegativeInt = 0
    """Members (last year) at or above which the bonus is paid."""


class RuleSchedule(FundingRule):
    """A funding rule from the programme's second year; ``start`` in its first
    (when there are no books yet)."""

    kind: Literal["rule"]
    start: Money
    """Amount in the programme's first year (MSEK)."""


class TableSchedule(StrictModel):
    """An explicit year → value table, starting at the programme's first year,
    with a stated rule for the years after the table."""

    kind: Literal["table"]
    values: dict[Year, Money]
    """Year → value (MSEK); years consecutive and in increasing order."""
    after: Literal["hold_last", "zero", "grow", "rule"] = "hold_last"
    """Past the last year: hold the last value, pay nothing, grow by ``growth``, or
    follow ``rule`` (base funding only)."""
    growth: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    """Yearly growth rate used when ``after = "grow"`` (0.02 = +2 % a year)."""
    rule: FundingRule | None = None
    """The funding rule for the years past the table, when ``after = "rule"``."""


Schedule = Annotated[
    TaperSchedule | RampSchedule | HoldSchedule | TableSchedule | RuleSchedule,
    Field(discriminator="kind"),
]


# --- programme and clusters -------------------------------------------------


class Programme(StrictModel):
    """Time frame of the simulation."""

    start_year: Year = 2017
    """First simulated year (the programme starts in 2017)."""
    horizon: Year = 2030
    """Last simulated year (inclusive)."""
    target_year: Year = 2021
    """Year the programme's targets refer to."""


class FeeTiers(StrictModel):
    """Membership fee by member size (kSEK per member per year)."""

    small: Money
    """Fee for a small member (kSEK/year)."""
    medium: Money
    """Fee for a medium member (kSEK/year)."""
    large: Money
    """Fee for a large member (kSEK/year)."""


class SizeMix(StrictModel):
    """Shares of members by size tier; they sum to 1."""

    small: Share
    """Share of small members."""
    medium: Share
    """Share of medium members."""
    large: Share
    """Share of large members."""


class TypeMix(StrictModel):
    """Shares of members by type; they sum to 1."""

    company: Share
    """Share of companies."""
    academia: Share
    """Share of universities and research institutes."""
    public: Share
    """Share of public-sector members."""


class Cluster(StrictModel):
    """One cluster organisation at the start of the programme."""

    name: str
    """Display name."""
    members: Annotated[int, Field(ge=0, le=MAX_MEMBERS)]
    """Members in the programme's first year."""
    founded: Year | None = None
    """Year the cluster was founded, where known."""
    theme: str
    """What the cluster is about."""
    fee_ksek: FeeTiers
    """Membership fees by size tier (kSEK/year)."""
    size_mix: SizeMix
    """Mix of member sizes, for the starting members and for joiners."""
    type_mix: TypeMix
    """Mix of member types, for the starting members and for joiners."""
    staff_cost: Money
    """Staff costs (MSEK/year)."""
    activity_cost: Money
    """Member activities at full level (MSEK/year); cut when money is short."""
    fixed_cost: Money
    """Rent, systems and other fixed costs (MSEK/year)."""
    opening_reserves: Money
    """Reserves at the start of the first year (MSEK)."""
    other_public: Money
    """Other public funding: national, EU projects (MSEK/year)."""
    private_income: Money
    """Private funding in the first year: sponsors, paid services, events (MSEK/year)."""
    startup_joiners: Annotated[float, Field(ge=0.0, le=MAX_MEMBERS)] = 0.0
    """Extra expected joiners per year while the cluster is being built up (below
    the scorecard's member target), e.g. for a cluster that starts with no members."""
    churn: Share | None = None
    """This cluster's base yearly churn past a member's first year (none: ``members.churn``)."""
    join_rate: NonNegativeFloat | None = None
    """This cluster's expected joiners per member per year (none: ``members.join_rate``)."""
    forming_until: Year | None = None
    """A cluster being started: the last year by which it must have ``forming_members``
    members, or it leaves the programme as ``not_formed`` at that year's end (none: an
    established cluster)."""
    forming_members: Annotated[int, Field(ge=0, le=MAX_MEMBERS)] = 0
    """Members a cluster being started must have by ``forming_until``."""


class BaseFunding(StrictModel):
    """Region Skåne's base funding per cluster."""

    default: Schedule
    """Schedule for every cluster without an override."""
    overrides: dict[str, Schedule] = {}
    """Cluster id → its own schedule."""


class Arena(StrictModel):
    """The open innovation arena money."""

    budget: Schedule
    """Arena budget for the whole programme by year (MSEK)."""
    overhead_share: Share
    """Share of a cluster's arena money that pays its own organisation (staff
    time); the rest is spent on the project's costs."""


class MemberBehaviour(StrictModel):
    """How members renew, leave and join.

    Yearly churn of member i (see ``simulator.members.churn_probability``)::

        churn_i = base_i * shock * exp(fee_sensitivity * max(0, fee_rise - fee_tolerance)
                                   - value_sensitivity * (satisfaction_i - 1))
                     * (1 - arena_retention * in_arena_i)

    clipped to [0, 1]; ``base_i`` is ``first_year_churn`` in a member's first year
    and ``churn`` after. With ``feedback = false`` churn is just ``base_i``.
    """

    churn: Share
    """Base yearly churn of members past their first year."""
    first_year_churn: Share
    """Base churn in a member's first year."""
    fee_tolerance: NonNegativeFloat
    """Fee rise (0.10 = 10 %) members accept without renewing less."""
    fee_sensitivity: NonNegativeFloat
    """How fast churn grows with the fee rise above the tolerance."""
    value_sensitivity: NonNegativeFloat
    """How fast churn falls as the value index rises above 1."""
    arena_retention: Share
    """Relative fall in churn for a member taking part in a funded arena project."""
    join_rate: NonNegativeFloat
    """Expected joiners per member per year at value index 1."""
    network_elasticity: NonNegativeFloat
    """Elasticity of the value index to network size (members / starting members)."""
    arena_attraction: NonNegativeFloat
    """Relative rise in joining for a cluster with funded arena projects."""
    arena_participation: Share
    """Share of a cluster's members drawn into each project it has funded."""
    satisfaction_weight: Share
    """Weight of this year's value index in a member's satisfaction (1 = no memory):
    ``satisfaction = (1 - w) * satisfaction_last_year + w * value``."""
    feedback: bool = True
    """Fee rises, value and arena participation affect churn."""
    joining: bool = True
    """New members join."""
    transfer_share: Share = 0.0
    """Share of a closing cluster's members who join an open cluster the next year
    (picked by the open-call affinity to the closing cluster, else equally)."""


class Management(StrictModel):
    """How a cluster's management reacts to a funding gap."""

    fee_policy: bool = True
    """Raise fees after a deficit."""
    max_fee_rise: NonNegativeFloat
    """Largest fee rise in one year (0.10 = 10 %)."""
    private_effort: bool = True
    """Seek more private money after a deficit."""
    effort_step: NonNegativeFloat
    """Rise of the private-funding effort multiplier after a deficit year."""
    max_effort: NonNegativeFloat
    """Largest private-funding effort multiplier."""
    private_lag_years: Annotated[float, Field(ge=1.0)]
    """Years for private income to close the gap to its target (1 = at once)."""
    private_per_member: Money
    """Private income gained or lost per member above or below the start (MSEK/year)."""
    activity_cuts: bool = True
    """Cut activities when reserves run low."""
    cut_step: Share
    """Cut of the activity level in a year of low reserves."""
    restore_step: Share
    """Restore of the activity level in a year of healthy reserves."""
    min_activity: Share
    """Lowest activity level (share of full activities)."""
    reserve_threshold: NonNegativeFloat
    """Reserves below this many years of costs count as low."""
    closure_years: Annotated[int, Field(ge=1)]
    """A cluster closes after this many consecutive years with negative reserves."""
    reserve_cap_years: NonNegativeFloat | None = None
    """Reserves above this many years of costs are spent on extra activities the next
    year (``None``: no cap, surpluses pile up)."""
    max_activity: Annotated[float, Field(ge=1.0)] = 1.5
    """Highest activity level members see when a surplus is spent (1 = full activities)."""


class Shock(StrictModel):
    """A period of changed conditions, e.g. a downturn."""

    name: str
    """What happens."""
    from_year: Year
    """First year of the shock."""
    to_year: Year
    """Last year of the shock."""
    private_multiplier: NonNegativeFloat = 1.0
    """Multiplier on private income."""
    joiner_multiplier: NonNegativeFloat = 1.0
    """Multiplier on new members joining."""
    churn_multiplier: NonNegativeFloat = 1.0
    """Multiplier on member churn."""
    other_public_multiplier: NonNegativeFloat = 1.0
    """Multiplier on other public funding."""


class Absorption(StrictModel):
    """A cluster handing itself to a host organisation (Svenskt Marintekniskt Forum became
    a network inside RISE in 2017 when regional money fell short and members refused a fee
    rise).

    After a year whose deficit is larger than the largest fee rise would bring in
    (``deficit > management.max_fee_rise * fee_income``: members would have to accept
    more than management may ask) and whose reserves are low (below
    ``management.reserve_threshold`` years of costs: the money falls short), the cluster
    is absorbed with ``probability``. It leaves
    the programme at that year's end with its reserves (``settled``), and its members stay
    with the host (none transfer to other clusters).
    """

    probability: Share = 0.0
    """Chance of absorption after each such year (0: the mechanism is off)."""


class Review(StrictModel):
    """A mid-term review of the base grants (the 2017–2021 grants were conditional and could
    be withdrawn after half the period). At the end of ``year`` a cluster that misses any
    condition is defunded: it takes no programme money from the next year and leaves the
    programme with its reserves (``settled``); its members leave with it."""

    year: Year
    """The year whose books are reviewed."""
    min_business_share: Share = 0.0
    """Least share of the year's income from members and private money:
    ``(fee_income + private_income) / total_income``."""
    min_members: Annotated[int, Field(ge=0, le=MAX_MEMBERS)] = 0
    """Least members in the review year."""


class FeeReform(StrictModel):
    """A cluster resets its fees and loses a share of its members (Medicon Valley Alliance's
    2018 fee reform, when it expected to lose one member in five).

    Scheduled in ``year``, or, without a year, drawn at random: from the programme's second
    year each year with ``yearly_probability`` until it happens (at most once a run). In
    the reform year, before the usual renewals, each member leaves with probability
    ``member_loss``, and fees are multiplied by ``fee_multiplier`` from that year on.
    """

    cluster: str
    """The cluster's id."""
    year: Year | None = None
    """The reform year (none: drawn at random with ``yearly_probability``)."""
    yearly_probability: Share = 0.0
    """Chance of the reform each year when no ``year`` is given."""
    member_loss: Share
    """Share of members who leave because of the reform."""
    fee_multiplier: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    """Fees after the reform relative to before."""


class Project(StrictModel):
    """A cross-cluster collaboration project that arena money can fund."""

    id: str
    """Short unique id."""
    title: str
    """What the project does."""
    area: Area
    """Innovation area (the seed's three guiding stars)."""
    clusters: list[str]
    """Ids of the participating clusters (two or more)."""
    cost_per_year: Annotated[float, Field(gt=0.0)]
    """Arena money the project needs per year at full funding (MSEK)."""
    duration: Annotated[int, Field(ge=1, le=10)]
    """Years the project runs once started."""
    earliest_start: Year
    """First year the project can start."""
    cofunding_per_year: Money
    """Private co-funding per year at full funding (MSEK), paid to the project."""
    impact: NonNegativeFloat
    """Expected impact per year at full funding (score)."""
    growth_seed: bool = False
    """Whether the project seeds a new growth area."""
    latest_start: Year | None = None
    """Last year the project can start (an open-call proposal lapses after its call year);
    none: any year from ``earliest_start``."""

    def may_run_in(self, year: int) -> bool:
        """Whether the project could be funded in ``year``: started then, or still running."""
        last = self.latest_start
        return self.earliest_start <= year and (last is None or year < last + self.duration)


class Proposal(NamedTuple):
    """An open-call proposal: what the allocators read of a :class:`Project`, made without
    validation, because every field is drawn inside the ranges of a validated
    :class:`CallArea` (:func:`simulator.calls.draw_call`); a test validates drawn ones as
    projects. Tens are drawn per run and year, so a pydantic model each would cost more
    than the draw itself. A named tuple: immutable and hashable like a frozen dataclass,
    and made in about a third of its time (0.8 µs against 2.4–2.8 µs on a 2-core machine);
    being a tuple, it also equals a plain tuple of its values, and iterates over them."""

    id: str
    area: Area
    clusters: tuple[str, str]
    cost_per_year: float
    duration: int
    earliest_start: int
    cofunding_per_year: float
    impact: float
    growth_seed: bool = False
    latest_start: int | None = None

    @property
    def title(self) -> str:
        """What it is: ``open call 2023, personal health, proposal 2``."""
        number = self.id.rsplit("_", 1)[-1]
        return f"open call {self.earliest_start}, {self.area.replace('_', ' ')}, proposal {number}"


AnyProject = Project | Proposal
"""A project of the shipped pool or an open-call proposal: the allocators read either."""


class CallArea(StrictModel):
    """The proposals of one innovation area in each year's open call."""

    proposals_per_year: NonNegativeFloat
    """Expected number of proposals a year (the number is Poisson-distributed)."""
    cost_min: Annotated[float, Field(ge=0.001)]
    """Least arena money a proposal asks for per year (MSEK, at least 0.001: costs are drawn
    to 3 decimals); drawn uniformly up to ``cost_max``."""
    cost_max: Annotated[float, Field(ge=0.001)]
    """Most arena money a proposal asks for per year (MSEK)."""
    impact_min: NonNegativeFloat
    """Least expected impact per year (score); drawn uniformly up to ``impact_max``."""
    impact_max: NonNegativeFloat
    """Most expected impact per year (score)."""
    cofunding_ratio_min: NonNegativeFloat
    """Least private co-funding per MSEK of arena money; drawn uniformly up to the max."""
    cofunding_ratio_max: NonNegativeFloat
    """Most private co-funding per MSEK of arena money."""
    duration_min: Annotated[int, Field(ge=1, le=10)]
    """Fewest years a proposal runs; drawn uniformly (whole years) up to ``duration_max``."""
    duration_max: Annotated[int, Field(ge=1, le=10)]
    """Most years a proposal runs."""


class OpenCalls(StrictModel):
    """New collaboration proposals every year from ``from_year``, drawn in each run.

    Each year and area a Poisson number of proposals arrives; each pairs two clusters
    drawn with probability proportional to the pair's affinity. A proposal can start
    only in its call year (it lapses if unfunded) and never seeds a growth area.
    Proposals with a closed cluster are not eligible.
    """

    from_year: Year
    """First year proposals arrive."""
    areas: dict[Area, CallArea]
    """Innovation area → its proposals."""
    default_affinity: NonNegativeFloat = 1.0
    """Weight of a cluster pair not listed in ``affinity``."""
    affinity: dict[str, NonNegativeFloat] = {}
    """``"<cluster>;<cluster>"`` → weight of that pair (relative to ``default_affinity``)."""

    def affinity_of(self, a: str, b: str) -> float:
        """The weight of the pair ``a``, ``b`` (listed either way round, else the default)."""
        return self.affinity.get(
            f"{a}{CLUSTER_SEPARATOR}{b}",
            self.affinity.get(f"{b}{CLUSTER_SEPARATOR}{a}", self.default_affinity),
        )


class Allocator(StrictModel):
    """How arena money is spread over projects each year."""

    method: Literal["lp", "proportional"] = "lp"
    """``lp``: the linear program; ``proportional``: every eligible project funded
    at the same fraction, budget / total eligible cost (capped at 1)."""
    binary: bool = False
    """All-or-nothing funding (MILP) instead of fractions."""
    solver: Literal["highs", "cbc"] = "highs"
    """Solver: HiGHS in-process, or PuLP's bundled CBC."""
    area_min_share: dict[Area, Share] = {}
    """Innovation area → least share of the year's arena budget."""
    cluster_cap_share: Share = 1.0
    """Largest share of the year's budget any one cluster's projects may take."""
    cofunding_min_ratio: NonNegativeFloat = 0.0
    """Least private co-funding per MSEK of arena money, over the funded portfolio."""
    cover_every_cluster: bool = True
    """Every active cluster in at least one funded project, where the pool allows."""
    soft_targets: bool = True
    """Area shares and the cover rule hold where the pool allows (penalised shortfall);
    ``false`` makes them hard constraints."""
    min_cover_fraction: Share = 0.25
    """Least funded fraction that counts as taking part, for the cover rule."""
    growth_seed_weight: NonNegativeFloat = 1.0
    """Impact multiplier for projects that seed a growth area."""
    at_risk_weight: NonNegativeFloat = 1.0
    """Impact multiplier per participating cluster that is at risk (low reserves)."""


class ParameterSets(StrictModel):
    """Parameter sets a calibration did not rule out: run r of an ensemble uses set
    ``r mod K`` (K the number of sets), so its spread carries parameter uncertainty as well
    as chance. Each set gives a value to every key of ``keys`` (keys of
    :data:`simulator.parameter_sets.PER_RUN_KEYS`)."""

    file: str
    """The CSV file the sets were read from (for the record)."""
    keys: list[str]
    """The dotted keys each set gives a value to."""
    values: list[list[float]]
    """One row per set, one value per key."""
    fixed: list[str] = []
    """Keys whose value the user set after naming the sets (in a scenario that extends the
    one naming them, or with ``--set``): every run keeps that value, not the set's."""


class Scorecard(StrictModel):
    """Thresholds for the seed's measurable 2021 targets."""

    min_members: NonNegativeInt
    """Every cluster has at least this many members."""
    max_regional_share: Share
    """Business-financed base: Region Skåne's share of each cluster's income at most this."""
    min_growth_areas: NonNegativeInt
    """Least number of growth areas seeded by funded cross-cluster projects."""
    min_collaboration_links: NonNegativeInt
    """Least number of distinct cluster pairs in funded projects."""
    gold_min_members: NonNegativeInt
    """Gold label proxy: at least this many members ..."""
    gold_max_regional_share: Share
    """... and Region Skåne's share of income at most this ..."""
    gold_min_reserve_years: NonNegativeFloat
    """... and reserves of at least this many years of costs."""
    min_gold: NonNegativeInt
    """Least number of clusters with the Gold label proxy (the rest Silver)."""


class Scenario(StrictModel):
    """A complete, resolved scenario."""

    name: str
    """Short name of the scenario."""
    description: str = ""
    """What the scenario is and what it changes."""
    seed: NonNegativeInt
    """Seed of the random generator (a run's streams are spawned from it)."""
    runs: Annotated[int, Field(ge=1)] = 100
    """Ensemble size when ``--runs`` is not given."""
    programme: Programme
    """Time frame."""
    clusters: dict[str, Cluster]
    """Cluster id → cluster."""
    base_funding: BaseFunding
    """Region Skåne's base funding."""
    arena: Arena
    """Open innovation arena money."""
    members: MemberBehaviour
    """Member behaviour."""
    management: Management
    """Management behaviour."""
    shocks: list[Shock] = []
    """Downturns and other shocks."""
    absorption: Absorption = Absorption()
    """A cluster in deep deficit handing itself to a host organisation (off by default)."""
    review: Review | None = None
    """A mid-term review that can withdraw base funding (none: no review)."""
    fee_reforms: list[FeeReform] = []
    """Fee reforms that cost a cluster members, scheduled or drawn at random."""
    parameter_sets: ParameterSets | None = None
    """Parameter sets the runs walk through (none: every run uses the values above)."""
    projects: list[Project] = []
    """The collaboration-project pool."""
    open_calls: OpenCalls | None = None
    """New proposals each year, drawn in each run (none: only ``projects``)."""
    allocator: Allocator = Allocator()
    """Arena allocation options."""
    scorecard: Scorecard
    """Target thresholds."""

    @property
    def years(self) -> list[int]:
        """Every simulated year, first to horizon."""
        return list(range(self.programme.start_year, self.programme.horizon + 1))

    def base_schedule(self, cluster_id: str) -> Schedule:
        """The base-funding schedule that applies to one cluster."""
        return self.base_funding.overrides.get(cluster_id, self.base_funding.default)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where (dotted key path) and what."""

    key: str
    message: str


def _rule_problems(key: str, schedule: Schedule, books: bool) -> list[Problem]:
    """A rule needs a cluster's books; its floor must not exceed its ceiling."""
    rule: FundingRule | None = None
    if isinstance(schedule, RuleSchedule):
        rule = schedule
    elif isinstance(schedule, TableSchedule):
        if schedule.after == "rule" and schedule.rule is None:
            return [Problem(f"{key}.rule", 'after = "rule" needs a [rule] table')]
        if schedule.rule is not None and schedule.after != "rule":
            return [Problem(f"{key}.after", 'a rule is given, so set after = "rule"')]
        rule = schedule.rule
        key = f"{key}.rule"
    if rule is None:
        return []
    if not books:
        return [Problem(key, "a funding rule reads a cluster's books; use it for base funding")]
    if rule.ceiling is not None and rule.floor > rule.ceiling:
        return [Problem(f"{key}.floor", f"floor {rule.floor} is above the ceiling {rule.ceiling}")]
    return []


def _taper_problems(key: str, schedule: TaperSchedule, start: int, horizon: int) -> list[Problem]:
    """A taper must fall, and reach its floor inside the programme."""
    problems: list[Problem] = []
    if schedule.floor > schedule.start:
        problems.append(
            Problem(
                f"{key}.floor",
                f"floor {schedule.floor} is above the starting level {schedule.start}; "
                "a taper must fall",
            )
        )
    if not start < schedule.floor_year <= horizon:
        problems.append(
            Problem(
                f"{key}.floor_year",
                f"{schedule.floor_year} is outside the programme ({start + 1}–{horizon})",
            )
        )
    return problems


def _ramp_problems(key: str, schedule: RampSchedule) -> list[Problem]:
    """A ramp must end after it begins."""
    if schedule.to_year <= schedule.from_year:
        return [
            Problem(
                f"{key}.to_year",
                f"to_year {schedule.to_year} must be after from_year {schedule.from_year}",
            )
        ]
    return []


def _table_problems(key: str, schedule: TableSchedule, start: int, horizon: int) -> list[Problem]:
    """A table lists every year from the programme's start, in order, none past the horizon."""
    years = list(schedule.values)
    if not years:
        return [Problem(f"{key}.values", "the table is empty")]
    problems: list[Problem] = []
    if years != sorted(years):
        problems.append(
            Problem(f"{key}.values", f"years out of order: {years}; list them in increasing order")
        )
    elif years != list(range(years[0], years[-1] + 1)):
        problems.append(Problem(f"{key}.values", f"years {years} have gaps; give every year"))
    if years[0] != start:
        problems.append(
            Problem(f"{key}.values", f"the table starts in {years[0]}; it must start in {start}")
        )
    outside = [y for y in years if y > horizon or y < start]
    if outside:
        problems.append(
            Problem(
                f"{key}.values",
                f"years {outside} are outside the programme ({start}–{horizon})",
            )
        )
    return problems


def _schedule_problems(
    key: str, schedule: Schedule, programme: Programme, books: bool = True
) -> list[Problem]:
    """Every problem of one funding schedule at ``key`` (its rule, then its own shape)."""
    start, horizon = programme.start_year, programme.horizon
    problems: list[Problem] = _rule_problems(key, schedule, books)
    if isinstance(schedule, TaperSchedule):
        problems += _taper_problems(key, schedule, start, horizon)
    elif isinstance(schedule, RampSchedule):
        problems += _ramp_problems(key, schedule)
    elif isinstance(schedule, TableSchedule):
        problems += _table_problems(key, schedule, start, horizon)
    return problems


def _mix_problems(key: str, mix: BaseModel) -> list[Problem]:
    total = sum(mix.model_dump().values())
    if abs(total - 1.0) > 1e-6:
        return [Problem(key, f"shares sum to {total:g}; they must sum to 1")]
    return []


def _programme_problems(prog: Programme) -> list[Problem]:
    """The horizon comes after the start, and the target year lies between them."""
    problems: list[Problem] = []
    if prog.horizon < prog.start_year:
        problems.append(
            Problem("programme.horizon", f"{prog.horizon} is before start_year {prog.start_year}")
        )
    if not prog.start_year <= prog.target_year <= prog.horizon:
        problems.append(
            Problem(
                "programme.target_year",
                f"{prog.target_year} is outside the programme ({prog.start_year}–{prog.horizon})",
            )
        )
    return problems


def _cluster_problems(scenario: Scenario) -> list[Problem]:
    """At least one cluster, each with size and type shares that sum to 1."""
    problems: list[Problem] = []
    if not scenario.clusters:
        problems.append(Problem("clusters", "no clusters; give at least one"))
    problems += [
        Problem(
            f"clusters.{cid}",
            f"cluster id {cid!r} cannot be used in key paths such as clusters.<id>.members "
            "(they are split at dots); use only letters, digits, '_' and '-'",
        )
        for cid in scenario.clusters
        if not CLUSTER_ID.fullmatch(cid)
    ]
    for cid, cluster in scenario.clusters.items():
        problems += _mix_problems(f"clusters.{cid}.size_mix", cluster.size_mix)
        problems += _mix_problems(f"clusters.{cid}.type_mix", cluster.type_mix)
    return problems


def _funding_problems(scenario: Scenario) -> list[Problem]:
    """The base-funding schedules (overrides for known clusters only) and the arena budget."""
    prog = scenario.programme
    problems = _schedule_problems("base_funding.default", scenario.base_funding.default, prog)
    for cid, schedule in scenario.base_funding.overrides.items():
        if cid not in scenario.clusters:
            problems.append(
                Problem(
                    f"base_funding.overrides.{cid}", f"unknown cluster '{cid}'{_known(scenario)}"
                )
            )
        problems += _schedule_problems(f"base_funding.overrides.{cid}", schedule, prog)
    problems += _schedule_problems("arena.budget", scenario.arena.budget, prog, books=False)
    return problems


def _shock_problems(scenario: Scenario) -> list[Problem]:
    """A shock ends no earlier than it begins."""
    return [
        Problem(f"shocks.{i}.to_year", f"{shock.to_year} is before from_year {shock.from_year}")
        for i, shock in enumerate(scenario.shocks)
        if shock.to_year < shock.from_year
    ]


def _exit_problems(scenario: Scenario) -> list[Problem]:
    """Fee reforms name a known cluster and say when; the review and start-ups fall in the
    programme's years."""
    start, horizon = scenario.programme.start_year, scenario.programme.horizon
    problems: list[Problem] = []
    for i, reform in enumerate(scenario.fee_reforms):
        key = f"fee_reforms.{i}"
        if reform.cluster not in scenario.clusters:
            problems.append(
                Problem(f"{key}.cluster", f"unknown cluster '{reform.cluster}'{_known(scenario)}")
            )
        if reform.year is None and reform.yearly_probability == 0.0:
            problems.append(
                Problem(key, "give a year (scheduled) or a yearly_probability above 0 (random)")
            )
        elif reform.year is not None and reform.yearly_probability > 0.0:
            problems.append(Problem(key, "give a year or a yearly_probability, not both"))
        if reform.year is not None and not start < reform.year <= horizon:
            problems.append(
                Problem(
                    f"{key}.year",
                    f"{reform.year} is outside the programme's years after the first "
                    f"({start + 1}–{horizon})",
                )
            )
    if scenario.review is not None and not start <= scenario.review.year < horizon:
        problems.append(
            Problem(
                "review.year",
                f"{scenario.review.year} is outside the programme's years before the last "
                f"({start}–{horizon - 1})",
            )
        )
    for cid, cluster in scenario.clusters.items():
        if cluster.forming_until is not None and not start <= cluster.forming_until <= horizon:
            problems.append(
                Problem(
                    f"clusters.{cid}.forming_until",
                    f"{cluster.forming_until} is outside the programme ({start}–{horizon})",
                )
            )
    return problems


def _project_problems(scenario: Scenario) -> list[Problem]:
    """Unique project ids; each project links at least two distinct, known clusters."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, project in enumerate(scenario.projects):
        key = f"projects.{i}"
        if project.id in seen:
            problems.append(Problem(f"{key}.id", f"duplicate project id '{project.id}'"))
        seen.add(project.id)
        if len(set(project.clusters)) < 2:
            problems.append(
                Problem(
                    f"{key}.clusters",
                    f"project '{project.id}' names {len(set(project.clusters))} distinct cluster(s); "
                    "a collaboration project needs at least 2",
                )
            )
        problems += [
            Problem(
                f"{key}.clusters",
                f"project '{project.id}' names unknown cluster '{cid}'{_known(scenario)}",
            )
            for cid in project.clusters
            if cid not in scenario.clusters
        ]
    return problems


def _allocator_problems(scenario: Scenario) -> list[Problem]:
    """The minimum area shares leave room: they sum to at most 1."""
    share_total = sum(scenario.allocator.area_min_share.values())
    if share_total > 1.0 + 1e-9:
        return [
            Problem("allocator.area_min_share", f"minimum area shares sum to {share_total:g} > 1")
        ]
    return []


def scenario_problems(scenario: Scenario) -> list[Problem]:
    """Every cross-field problem in a scenario (empty when it is consistent), in the order
    programme, clusters, funding, shocks, exits, projects, open calls, allocator."""
    return [
        *_programme_problems(scenario.programme),
        *_cluster_problems(scenario),
        *_funding_problems(scenario),
        *_shock_problems(scenario),
        *_exit_problems(scenario),
        *_project_problems(scenario),
        *_open_call_problems(scenario),
        *_allocator_problems(scenario),
    ]


def _open_call_problems(scenario: Scenario) -> list[Problem]:
    calls = scenario.open_calls
    if calls is None:
        return []
    problems: list[Problem] = []
    for area, spec in calls.areas.items():
        for low in ("cost", "impact", "cofunding_ratio", "duration"):
            lo, hi = getattr(spec, f"{low}_min"), getattr(spec, f"{low}_max")
            if lo > hi:
                problems.append(
                    Problem(f"open_calls.areas.{area}.{low}_min", f"{lo} is above {low}_max {hi}")
                )
    for pair in calls.affinity:
        names = pair.split(CLUSTER_SEPARATOR)
        if len(names) != 2 or names[0] == names[1]:
            problems.append(
                Problem(
                    f"open_calls.affinity.{pair}",
                    f"name two different clusters as 'a{CLUSTER_SEPARATOR}b'",
                )
            )
        problems += [
            Problem(f"open_calls.affinity.{pair}", f"unknown cluster '{c}'{_known(scenario)}")
            for c in names
            if c not in scenario.clusters
        ]
    if len(scenario.clusters) < 2:
        problems.append(Problem("open_calls", "open calls pair clusters; give at least two"))
    elif calls.default_affinity == 0 and not any(calls.affinity.values()):
        problems.append(Problem("open_calls.default_affinity", "every pair has affinity 0"))
    return problems


def _known(scenario: Scenario) -> str:
    return f" (known: {', '.join(scenario.clusters)})"
