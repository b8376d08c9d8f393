"""Labels for plots and reports in English (default) or Swedish."""

from __future__ import annotations

LANGUAGES = ("en", "sv")

_LABELS: dict[str, tuple[str, str]] = {
    # funding sources
    "regional_base": ("Regional base (Region Skåne)", "Regional basfinansiering (Region Skåne)"),
    "fee_income": ("Membership fees", "Medlemsavgifter"),
    "private_income": ("Private funding", "Privat finansiering"),
    "other_public": ("Other public funding", "Annan offentlig finansiering"),
    "arena_income": ("Arena money", "Arenamedel"),
    # metrics
    "members": ("members", "medlemmar"),
    "total_income": ("total income", "total intäkt"),
    "reserves": ("reserves", "reserver"),
    "regional_share": ("regional share of income", "regional andel av intäkterna"),
    "closed": ("probability of closure", "sannolikhet för nedläggning"),
    "costs": ("costs", "kostnader"),
    # axes and titles
    "year": ("year", "år"),
    "msek_year": ("MSEK / year", "MSEK / år"),
    "msek": ("MSEK", "MSEK"),
    "scenario": ("Scenario", "Scenario"),
    "members_title": ("members per cluster", "medlemmar per kluster"),
    "mix_title": (
        "income by source per cluster (ensemble mean, MSEK)",
        "intäkter per källa och kluster (medelvärde, MSEK)",
    ),
    "share_title": (
        "how much of each cluster's income comes from Region Skåne",
        "hur stor del av klustrens intäkter som kommer från Region Skåne",
    ),
    "share_axis": ("regional share of income (%), P50", "regional andel av intäkterna (%), P50"),
    "taper_title": ("the taper and the arena money", "nedtrappningen och arenamedlen"),
    "base_all": ("regional base, all clusters", "regional basfinansiering, alla kluster"),
    "arena_paid": ("arena money paid out", "utbetalda arenamedel"),
    "mean_msek_year": ("MSEK / year (ensemble mean)", "MSEK / år (medelvärde)"),
    "bound": ("business-financed bound", "gräns för näringslivsfinansierad bas"),
    "target": ("target", "mål"),
    "band": ("P10–P90", "P10–P90"),
    "scorecard_title": (
        "scorecard (label = proxy, not the ECEI audit)",
        "måluppfyllelse (märkning = proxy, inte ECEI-granskningen)",
    ),
    "probability_met": ("probability target met (%)", "sannolikhet att målet nås (%)"),
    "heatmap_cluster_title": (
        "arena money per cluster and year (ensemble mean, MSEK)",
        "arenamedel per kluster och år (medelvärde, MSEK)",
    ),
    "heatmap_area_title": (
        "arena money per innovation area and year (ensemble mean, MSEK)",
        "arenamedel per innovationsområde och år (medelvärde, MSEK)",
    ),
    "compare_title": ("scenarios compared", "scenarier jämförda"),
    "smart_materials": ("Smart materials", "Smarta material"),
    "smart_sustainable_cities": ("Smart sustainable cities", "Smarta hållbara städer"),
    "personal_health": ("Personal health", "Personlig hälsa"),
    # report
    "report_title": ("Cluster funding scenarios", "Scenarier för klusterfinansiering"),
    "answer_title": (
        "What the scenarios change for each cluster in {year}",
        "Vad scenarierna ändrar för varje kluster {year}",
    ),
    "scenarios": ("Scenarios", "Scenarier"),
    "input_diff": ("What differs in the inputs", "Vad som skiljer i indata"),
    "scorecard": ("Scorecard", "Måluppfyllelse"),
    "plots": ("Charts", "Diagram"),
    "provenance": ("Provenance", "Ursprung"),
    "no_diff": ("the inputs are identical", "indata är identiska"),
    "explore_title": ("Which assumptions matter", "Vilka antaganden spelar roll"),
    "key": ("key", "nyckel"),
    "cluster": ("cluster", "kluster"),
    "probability": ("probability", "sannolikhet"),
    # the per-cluster figures of a comparison, by "<metric>.<stat>" (compare.CLUSTER_FIGURES)
    "members.p50": ("members P50", "medlemmar P50"),
    "regional_share.p50": ("regional share P50", "regional andel P50"),
    "reserves.p50": ("reserves P50 (MSEK)", "reserver P50 (MSEK)"),
    "arena_income.mean": ("arena money mean (MSEK)", "arenamedel medelvärde (MSEK)"),
    "closed.mean": ("P(closed)", "P(nedlagt)"),
    "member_target.probability": ("P(members ≥ target)", "P(medlemmar ≥ målet)"),
    "name": ("name", "namn"),
    # the report's first screen
    "answer_members": ("members", "medlemmar"),
    "answer_delta_members": ("Δ members", "Δ medlemmar"),
    "answer_share": ("regional share", "regional andel"),
    "answer_reserves": ("reserves (MSEK)", "reserver (MSEK)"),
    "answer_delta_reserves": ("Δ reserves (MSEK)", "Δ reserver (MSEK)"),
    "answer_arena": ("arena money (MSEK)", "arenamedel (MSEK)"),
    "answer_delta_arena": ("Δ arena money (MSEK)", "Δ arenamedel (MSEK)"),
    "answer_closed": ("P(closed)", "P(nedlagt)"),
    "answer_target": ("P(≥ member target)", "P(≥ medlemsmålet)"),
}


def figure_label(metric: str, stat: str, lang: str = "en") -> str:
    """The heading of a comparison's per-cluster figure (``metric`` summarised by ``stat``)."""
    return label(f"{metric}.{stat}", lang)


def label(key: str, lang: str = "en") -> str:
    """The label for ``key`` in ``lang`` (``en`` or ``sv``); the key itself when unknown."""
    pair = _LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "sv" else pair[0]
