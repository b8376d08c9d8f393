"""Labels for plots and reports in English (default) or Swedish."""

from __future__ import annotations

from collections.abc import Mapping

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
        "income by source per cluster, MSEK: mean over all runs (a cluster that has left "
        "counts as 0)",
        "intäkter per källa och kluster, MSEK: medelvärde över alla körningar (ett kluster som "
        "har lämnat räknas som 0)",
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
    # the budget brief (clusterfund brief, and the top of the report)
    "brief_title": ("Budget brief", "Budgetunderlag"),
    "brief_against": ("{others} against {base}", "{others} jämfört med {base}"),
    "brief_subtitle": (
        "Region Skåne's money paid to the clusters (regional base + arena money), MSEK; "
        "{runs} runs of each scenario on the same seeds, compared run by run.",
        "Region Skånes medel till klustren (regional basfinansiering + arenamedel), MSEK; "
        "{runs} körningar av varje scenario med samma slumptal, jämförda körning för körning.",
    ),
    "brief_single_subtitle": (
        "Region Skåne's money paid to the clusters (regional base + arena money), MSEK; "
        "mean over {runs} runs.",
        "Region Skånes medel till klustren (regional basfinansiering + arenamedel), MSEK; "
        "medelvärde över {runs} körningar.",
    ),
    "brief_money": ("money {years}", "medel {years}"),
    "brief_delta_money": ("Δ money {years}", "Δ medel {years}"),
    "brief_band": ("P10–P90", "P10–P90"),
    "brief_p_left": ("P(left by {year})", "P(lämnat {year})"),
    "brief_members": ("members {year}", "medlemmar {year}"),
    "brief_delta_members": ("Δ members {year}", "Δ medlemmar {year}"),
    "brief_lost": ("clusters lost by {year}", "förlorade kluster {year}"),
    "all_clusters": ("all clusters", "alla kluster"),
    "band_to": ("to", "till"),
    "points": ("pp", "p.e."),
    "brief_chart_title": (
        "Δ money {years} per cluster against {base} (MSEK): mean and P10–P90 run by run",
        "Δ medel {years} per kluster jämfört med {base} (MSEK): medelvärde och P10–P90 "
        "körning för körning",
    ),
    "brief_note_band": (
        "Δ = scenario minus {base}, the mean of the run-by-run differences (run r of each "
        "scenario has the same seed). P10–P90: the band within which 80 % of the run-by-run "
        "differences lie; for P(left), 80 % of the mean difference over 1,000 resamples of "
        "the runs.",
        "Δ = scenario minus {base}, medelvärdet av skillnaderna körning för körning (körning r "
        "har samma slumptal i båda scenarierna). P10–P90: intervallet där 80 % av skillnaderna "
        "ligger; för P(lämnat) 80 % av medelskillnaden över 1 000 omsamplingar av körningarna.",
    ),
    "brief_note_left": (
        "P(left): the probability that the cluster has left the programme (closed, or any "
        "other way out) by {year}; for all clusters, that at least one has. Money: what Region "
        "Skåne pays; a cluster that has left is paid nothing.",
        "P(lämnat): sannolikheten att klustret har lämnat programmet (lagts ned eller på annat "
        "sätt) senast {year}; för alla kluster att minst ett har gjort det. Medel: vad Region "
        "Skåne betalar; ett kluster som har lämnat får inget.",
    ),
    "brief_note_source": (
        "clusterfund brief, {created}. Numbers: {csv}. Runs: {folders}.",
        "clusterfund brief, {created}. Siffror: {csv}. Körningar: {folders}.",
    ),
    "brief_not_paired": (
        "No paired brief: {why}",
        "Inget parat underlag: {why}",
    ),
    "not_twins": (  # the baseline's value alone in English, with its word in Swedish
        "{path}: {name} has {what} but the baseline {base_path} has {base_value}; a paired "
        "difference needs the same seed and runs (run both with the same --seed and --runs)",
        "{path}: {name} har {what} men baslinjen {base_path} har {base_what}; en parad skillnad "
        "kräver samma frö och lika många körningar (kör båda med samma --seed och --runs)",
    ),
    "twins.seed": ("seed {value}", "frö {value}"),
    "twins.runs": ("runs {value}", "{value} körningar"),
    # the brief's sentences ({name}: a scenario; amounts already formatted)
    "say_saves": (
        "{name} saves {amount} MSEK ({band}) over {years}",
        "{name} sparar {amount} MSEK ({band}) under {years}",
    ),
    "say_costs": (
        "{name} costs {amount} MSEK more ({band}) over {years}",
        "{name} kostar {amount} MSEK mer ({band}) under {years}",
    ),
    "say_same_money": (
        "{name} pays the same over {years}",
        "{name} betalar lika mycket under {years}",
    ),
    "say_lost_up": (
        "and raises the expected number of clusters lost by {year} from {before} to {after}.",
        "och höjer det väntade antalet förlorade kluster {year} från {before} till {after}.",
    ),
    "say_lost_down": (
        "and lowers the expected number of clusters lost by {year} from {before} to {after}.",
        "och sänker det väntade antalet förlorade kluster {year} från {before} till {after}.",
    ),
    "say_lost_same": (
        "and leaves the expected number of clusters lost by {year} at {before}.",
        "och lämnar det väntade antalet förlorade kluster {year} vid {before}.",
    ),
    "say_members_down": (
        "With {name} the clusters have {amount} fewer members in {year} ({band}): {after} "
        "against {before}.",
        "Med {name} har klustren {amount} färre medlemmar {year} ({band}): {after} mot {before}.",
    ),
    "say_members_up": (
        "With {name} the clusters have {amount} more members in {year} ({band}): {after} "
        "against {before}.",
        "Med {name} har klustren {amount} fler medlemmar {year} ({band}): {after} mot {before}.",
    ),
    "say_members_same": (
        "With {name} the clusters have as many members in {year} as with {base} ({after}).",
        "Med {name} har klustren lika många medlemmar {year} som med {base} ({after}).",
    ),
    "say_hardest": (
        "Most affected by {name}: {cluster}, whose probability of having left by {year} goes "
        "from {before} to {after}.",
        "Mest påverkat av {name}: {cluster}, där sannolikheten att ha lämnat programmet {year} "
        "går från {before} till {after}.",
    ),
    "say_single": (
        "{name} pays {amount} MSEK ({band}) over {years}, {target_amount} MSEK in {year}; "
        "the expected number of clusters lost by {year} is {lost}.",
        "{name} betalar {amount} MSEK ({band}) under {years}, {target_amount} MSEK {year}; "
        "det väntade antalet förlorade kluster {year} är {lost}.",
    ),
    # the report's page
    "contents": ("Contents", "Innehåll"),
    "report_made": ("clusterfund report, {created}", "clusterfund-rapport, {created}"),
    "answer_against": ("{other} against {base}", "{other} jämfört med {base}"),
    "answer_headline": (
        "{other} against {base} in {year}: arena money {arena} MSEK; members (sum of P50) "
        "{members}; expected closures {closures}.",
        "{other} jämfört med {base} {year}: arenamedel {arena} MSEK; medlemmar (summa av P50) "
        "{members}; väntat antal nedlagda kluster {closures}.",
    ),
    "answer_note": (
        "Δ = {others} minus {base}; members, regional share and reserves are medians (P50) over "
        "the runs, arena money the mean, P(closed) the share of runs in which the cluster has "
        "left the programme. Green: better for the cluster.",
        "Δ = {others} minus {base}; medlemmar, regional andel och reserver är medianer (P50) "
        "över körningarna, arenamedel medelvärdet, P(nedlagt) andelen körningar där klustret "
        "har lämnat programmet. Grönt: bättre för klustret.",
    ),
    "answer_note_single": (
        "Medians (P50) over the runs; arena money is the mean; P(closed) the share of runs in "
        "which the cluster has left the programme.",
        "Medianer (P50) över körningarna; arenamedel är medelvärdet; P(nedlagt) andelen "
        "körningar där klustret har lämnat programmet.",
    ),
    "scorecard_note": (
        "Gold/Silver are proxies from configurable thresholds, not the official ECEI audit.",
        "Guld/Silver är proxyer från inställbara trösklar, inte den officiella ECEI-granskningen.",
    ),
    "backtest_title": ("Backtest against observed figures", "Test mot observerade värden"),
    "backtest_summary": (
        "Coverage of the P10–P90 band {coverage} over {values} observed values with spread "
        "(ideally 0.80); {bounds_in} of {bounds} bounds overlap the band; {skipped} "
        "observations skipped (outside the run's years or undated).",
        "Täckning av P10–P90-bandet {coverage} över {values} observerade värden med spridning "
        "(helst 0,80); {bounds_in} av {bounds} gränser överlappar bandet; {skipped} "
        "observationer hoppades över (utanför körningens år eller odaterade).",
    ),
    "explore_sub": (
        "{points} points × {replications} replications ({design} design, seed {seed}, base "
        "{base}); inputs ranked by {ranked_by} with bootstrap 95 % CIs.",
        "{points} punkter × {replications} upprepningar ({design}-design, frö {seed}, bas "
        "{base}); indata rangordnade efter {ranked_by} med 95 % bootstrap-intervall.",
    ),
    "provenance_details": (
        "{name}: provenance of every labelled key",
        "{name}: ursprung för varje märkt nyckel",
    ),
    "differences_title": ("Differences against {base}", "Skillnader mot {base}"),
    "more_rows": (
        "{count} more rows in the Excel workbook.",
        "{count} rader till i Excel-arbetsboken.",
    ),
    "yes": ("yes", "ja"),
    "no": ("no", "nej"),
    # column headings (report tables, workbook sheets)
    "col.scenario": ("scenario", "scenario"),
    "col.description": ("description", "beskrivning"),
    "col.runs": ("runs", "körningar"),
    "col.seed": ("seed", "frö"),
    "col.years": ("years", "år"),
    "col.folder": ("folder", "mapp"),
    "col.config_sha256": ("config sha256", "konfigurationens sha256"),
    "col.created": ("created", "skapad"),
    "col.versions": ("versions", "versioner"),
    "col.provenance_entries": ("provenance entries", "ursprungsposter"),
    "col.key": ("key", "nyckel"),
    "col.source": ("source", "källa"),
    "col.target": ("target", "mål"),
    "col.year": ("year", "år"),
    "col.cluster": ("cluster", "kluster"),
    "col.metric": ("metric", "mått"),
    "col.measure": ("measure", "mått"),
    "col.value": ("value", "värde"),
    "col.mean": ("mean", "medelvärde"),
    "col.probability": ("probability", "sannolikhet"),
    "col.mean_value": ("mean value", "medelvärde"),
    "col.baseline_p50": ("baseline P50", "baslinje P50"),
    "col.delta_p50": ("Δ P50", "Δ P50"),
    "col.delta_mean": ("Δ mean", "Δ medelvärde"),
    "col.delta": ("Δ", "Δ"),
    "col.delta_p10": ("Δ P10", "Δ P10"),
    "col.delta_p90": ("Δ P90", "Δ P90"),
    "col.outcome": ("outcome", "utfall"),
    "col.rank": ("rank", "rang"),
    "col.input": ("input", "indata"),
    "col.note": ("note", "anmärkning"),
    "col.ci95": ("95 % CI", "95 % KI"),
    "col.line": ("line", "rad"),
    "col.lower": ("lower", "nedre"),
    "col.upper": ("upper", "övre"),
    "col.status": ("status", "status"),
    "col.spread": ("spread", "spridning"),
    "col.in_band": ("in band", "i bandet"),
    "col.pit": ("PIT", "PIT"),
    "col.crps": ("CRPS", "CRPS"),
    "col.kind": ("kind", "slag"),
    "col.sample": ("sample", "urval"),
    "col.p50": ("P50", "P50"),
    "col.p10": ("P10", "P10"),
    "col.p90": ("P90", "P90"),
    "col.reference_crps": ("reference CRPS", "referens-CRPS"),
    "col.band": ("P10–P90", "P10–P90"),
    "col.description_text": ("description", "beskrivning"),
    # workbook sheet names (English ones are the CSV file names of compare)
    "sheet.clusters": ("clusters_{year}", "kluster_{year}"),
    "sheet.scorecard": ("scorecard", "måluppfyllelse"),
    "sheet.input_diff": ("input_diff", "indataskillnad"),
    "sheet.deltas": ("deltas", "förändringar"),
    "sheet.summary": ("summary {name}", "sammanfattning {name}"),
    "sheet.backtest": ("backtest {name}", "backtest {name}"),
    "sheet.brief": ("brief", "underlag"),
    "sheet.sensitivity": ("sensitivity {name}", "känslighet {name}"),
    "sheet.discovery": ("discovery {name}", "upptäckt {name}"),
    # scorecard targets (per-cluster targets: "<prefix>: <cluster name>")
    "target.members_min": ("every cluster ≥ target members", "alla kluster ≥ medlemsmålet"),
    "target.business_financed_base": (
        "every cluster business-financed",
        "alla kluster näringslivsfinansierade",
    ),
    "target.growth_areas": ("growth areas seeded", "tillväxtområden sådda"),
    "target.collaboration_links": ("collaboration links", "samarbetslänkar"),
    "target.label_gold_silver_proxy": (
        "Gold/Silver label (proxy)",
        "Guld/Silver-märkning (proxy)",
    ),
    "target.no_closures": ("no cluster lost", "inget kluster förlorat"),
    "target.cluster_members_min": ("members ≥ target", "medlemmar ≥ målet"),
    "target.cluster_business_financed": ("business-financed", "näringslivsfinansierat"),
    # chart names (the report's chart captions)
    "chart.funding_mix": ("funding mix", "finansieringsmix"),
    "chart.members": ("members", "medlemmar"),
    "chart.regional_share": ("regional share", "regional andel"),
    "chart.arena": ("arena money", "arenamedel"),
    "chart.scorecard": ("scorecard", "måluppfyllelse"),
    "chart.overlay_members": ("members, overlaid", "medlemmar, överlagrade"),
    "chart.overlay_total_income": ("total income, overlaid", "total intäkt, överlagrad"),
    "chart.overlay_regional_share": ("regional share, overlaid", "regional andel, överlagrad"),
    "chart.overlay_reserves": ("reserves, overlaid", "reserver, överlagrade"),
    "chart.overlay_arena_income": ("arena money, overlaid", "arenamedel, överlagrade"),
    "chart.difference_regional_money": (
        "Δ Region Skåne's money, run by run",
        "Δ Region Skånes medel, körning för körning",
    ),
    "chart.difference_members": ("Δ members, run by run", "Δ medlemmar, körning för körning"),
    "chart.brief": ("Δ money per cluster", "Δ medel per kluster"),
    # charts: what is drawn and what it averages over
    "left_in_runs": ("left in {share} of runs by {year}", "lämnat i {share} av körningarna {year}"),
    "left_short": ("left", "lämnat"),
    "left_marker": (
        "has left (in most runs)",
        "har lämnat (i de flesta körningarna)",
    ),
    "no_arena_money": ("no arena money in any year", "inga arenamedel något år"),
    "difference_title": (
        "{what} against {base}: mean and P10–P90 of the run-by-run difference",
        "{what} jämfört med {base}: medelvärde och P10–P90 av skillnaden körning för körning",
    ),
    "difference_regional_money": (
        "Δ Region Skåne's money (base + arena), MSEK / year",
        "Δ Region Skånes medel (bas + arena), MSEK / år",
    ),
    "difference_members": ("Δ members", "Δ medlemmar"),
    "all_programme": ("all clusters together", "alla kluster tillsammans"),
    # explore in the terminal
    "explore_head": (
        "{points} points × {replications} replications ({design}); inputs ranked by {column}:",
        "{points} punkter × {replications} upprepningar ({design}); indata rangordnade efter "
        "{column}:",
    ),
    "too_few_samples": (
        "too few samples to rank these inputs (the 95 % intervals are as wide as the indices); "
        "try samples = {samples}",
        "för litet stickprov för att rangordna dessa indata (95 %-intervallen är lika breda som "
        "indexen); prova samples = {samples}",
    ),
    "prim_box": (
        "PRIM, {condition}: box with coverage {coverage}, density {density}, restricting",
        "PRIM, {condition}: box med täckning {coverage}, täthet {density}, som begränsar",
    ),
    "nothing": ("nothing", "ingenting"),
    "input_in": ("{name} in {box}", "{name} i {box}"),
    "input_in_of": ("{name} in {box} (of {full})", "{name} i {box} (av {full})"),
    "calibration_line": (
        "calibration: {count} points not ruled out (wave {wave}) on {observations} observations; "
        "the best point's largest implausibility {best} (the {base} scenario: {at_base}) -> {path}",
        "kalibrering: {count} punkter inte uteslutna (våg {wave}) på {observations} "
        "observationer; den bästa punktens största implausibilitet {best} ({base}-scenariot: "
        "{at_base}) -> {path}",
    ),
    "parameter_sets_line": (
        "parameter sets: K = {count} (the points not ruled out in wave {wave}, best first) -> {path}",
        "parameteruppsättningar: K = {count} (punkterna som inte uteslutits i våg {wave}, den "
        "bästa först) -> {path}",
    ),
    "held_out_line": (
        "held out {observation} (observed {observed}): {best} calibrated (I = {at_best}), {base} "
        "uncalibrated (I = {at_base})",
        "undanhållen {observation} (observerat {observed}): {best} kalibrerad (I = {at_best}), "
        "{base} okalibrerad (I = {at_base})",
    ),
    "wave_line": (
        "wave {wave}: {points} points, {kept} not ruled out; drawn in",
        "våg {wave}: {points} punkter, {kept} inte uteslutna; dragna inom",
    ),
    # the fixed notes of sensitivity.csv (a note with numbers in it stays as written)
    "note.outcome is the same at every point": (
        "outcome is the same at every point",
        "utfallet är detsamma i varje punkt",
    ),
    "note.non-finite": ("non-finite", "inte ändligt"),
    # explore's charts
    "what_drives": (
        "{name}: what drives {outcome} ({stat})",
        "{name}: vad som driver {outcome} ({stat})",
    ),
    "total_st": ("total (ST)", "total (ST)"),
    "first_order_s1": ("first order (S1)", "första ordningen (S1)"),
    "sobol_axis": (
        "Sobol' index (share of the outcome's variance), 95 % CI",
        "Sobol-index (andel av utfallets varians), 95 % KI",
    ),
    "morris_sigma": ("σ (interactions, non-linearity)", "σ (samspel, icke-linjäritet)"),
    "morris_axis": (
        "Morris μ* ({outcome} per input range), 95 % CI",
        "Morris μ* ({outcome} per indataintervall), 95 % KI",
    ),
    "first_order_axis": ("first-order index S1", "första ordningens index S1"),
    "inputs_restricted": ("inputs restricted", "begränsade indata"),
    "chosen_box": ("chosen box", "vald box"),
    "prim_step": (
        "step {step}: coverage {coverage}, density {density}",
        "steg {step}: täckning {coverage}, täthet {density}",
    ),
    "minimum_density": ("minimum density", "lägsta täthet"),
    "coverage_axis": (
        "coverage (share of the points of interest inside the box)",
        "täckning (andel av de intressanta punkterna inom boxen)",
    ),
    "density_axis": (
        "density (share of the box's points that are of interest)",
        "täthet (andel av boxens punkter som är intressanta)",
    ),
    "prim_tradeoff_title": (
        "{name}: PRIM trade-off for {condition}",
        "{name}: PRIM-avvägning för {condition}",
    ),
    "box_restricts_nothing": ("the box restricts no input", "boxen begränsar inga indata"),
    "prim_box_title": (
        "{name}: where {condition} — coverage {coverage}, density {density}\n(grey: the sampled "
        "range; red: the box)",
        "{name}: där {condition} — täckning {coverage}, täthet {density}\n(grått: det samplade "
        "intervallet; rött: boxen)",
    ),
    "over_replications": (
        "{outcome} ({stat} over replications)",
        "{outcome} ({stat} över upprepningarna)",
    ),
    "scatter_title": (
        "{name}: {outcome} against its top inputs",
        "{name}: {outcome} mot de viktigaste indata",
    ),
    "scatter_interest": (
        " (red: points of interest for discovery)",
        " (rött: intressanta punkter för PRIM)",
    ),
    # optimise in the terminal and its charts
    "optimise_head": (
        "{evaluations} evaluations × {replications} runs ({algorithm}); {front} on the feasible "
        "front",
        "{evaluations} utvärderingar × {replications} körningar ({algorithm}); {front} på den "
        "tillåtna fronten",
    ),
    "policy_line": (
        "{policy} (evaluation {evaluation}): {path}.toml",
        "{policy} (utvärdering {evaluation}): {path}.toml",
    ),
    "levers": ("levers", "styrmedel"),
    "plan_line": (
        "the plan (base scenario, fresh seeds): {value}",
        "planen (basscenariot, nya frön): {value}",
    ),
    "against_plan": (
        "; under the plan {plan} ({against} with this policy)",
        "; med planen {plan} ({against} med denna policy)",
    ),
    "check_line": (
        "{outcome}: {in_sample} in sample, {out_of_sample} on fresh seeds",
        "{outcome}: {in_sample} i urvalet, {out_of_sample} med nya frön",
    ),
    "must_be": ("must be {bound}", "måste vara {bound}"),
    "met": ("met", "uppfyllt"),
    "missed_out_of_sample": ("MISSED out of sample", "MISSAT utanför urvalet"),
    "bound.at least": ("at least", "minst"),
    "bound.at most": ("at most", "högst"),
    "still_improving": (
        "still improving at the last generation: raise --budget (and --resume) for a better policy",
        "förbättras fortfarande i sista generationen: höj --budget (med --resume) för en bättre "
        "policy",
    ),
    "infeasible": ("infeasible", "otillåten"),
    "feasible": ("feasible", "tillåten"),
    "best_so_far": ("best feasible so far", "bästa tillåtna hittills"),
    "pareto_front": ("Pareto front", "Paretofront"),
    "evaluation_axis": (
        "evaluation (candidate × its replications)",
        "utvärdering (kandidat × dess upprepningar)",
    ),
    "maximised": ("{name} (maximised)", "{name} (maximeras)"),
    "minimised": ("{name} (minimised)", "{name} (minimeras)"),
    "convergence_title": ("{name}: convergence", "{name}: konvergens"),
    "subject_to": (" subject to {constraints}", " givet {constraints}"),
    "tradeoff_title": (
        "{name}: trade-off between {x} and {y}",
        "{name}: avvägning mellan {x} och {y}",
    ),
    # backtest in the terminal and its chart
    "sample.all": ("all years", "alla år"),
    "sample.in": ("in sample", "inom urvalet"),
    "sample.out": ("out of sample", "utanför urvalet"),
    "up_to": ("up to {year}", "till och med {year}"),
    "after": ("after {year}", "efter {year}"),
    "n/a": ("n/a", "saknas"),
    "beats_persistence": ("beats persistence", "slår persistensprognosen"),
    "no_better_than_persistence": (
        "no better than persistence",
        "inte bättre än persistensprognosen",
    ),
    "no_values": ("no values", "inga värden"),
    "coverage_line": (
        "P10–P90 coverage {coverage} over {values} observed value(s) with spread (ideally 0.80)",
        "täckning av P10–P90 {coverage} (helst 0,80); observerade värden med spridning: {values}",
    ),
    "without_spread": ("{count} without spread left out", "utan spridning och utelämnade: {count}"),
    "bounds_line": (
        "bounds: {inside} of {bounds} overlap the band",
        "gränser: {inside} av {bounds} överlappar bandet",
    ),
    "brier_skill": (
        "Brier skill against persistence {skill} over {rows}",
        "Brier-skicklighet mot persistensprognosen {skill}; gränser med en tidigare siffra: {rows}",
    ),
    "mean_crps": ("mean CRPS: {crps}", "medel-CRPS: {crps}"),
    "crps_skill_line": (
        "CRPS skill against persistence: {skill} over {rows} value(s) with an earlier figure",
        "CRPS-skicklighet mot persistensprognosen: {skill}; värden med en tidigare siffra: {rows}",
    ),
    "backtest_headline": (
        "{sample}: P10–P90 coverage {coverage} over {values} observed value(s) with spread "
        "(ideally 0.80), {inside} of {bounds} bound(s) overlap the band, CRPS skill against "
        "persistence {skill}.",
        "{sample}: täckning av P10–P90 {coverage} (helst 0,80; observerade värden med "
        "spridning: {values}), gränser som överlappar bandet: {inside} av {bounds}, "
        "CRPS-skicklighet mot persistensprognosen {skill}.",
    ),
    "backtest_skipped": (
        "{skipped} observation(s) skipped (outside the run's years or undated).",
        "Överhoppade observationer (utanför körningens år eller odaterade): {skipped}.",
    ),
    "backtest_head": (
        "backtest of {folder} against {observations}: {scored} scored, {skipped} skipped",
        "test av {folder} mot {observations}: bedömda {scored}, överhoppade {skipped}",
    ),
    "backtest_scores_note": (
        "Scores count observed rows only; skill compares the CRPS with that of persistence (the "
        "last earlier figure, spread by the observed yearly changes).",
        "Poängen räknar bara observerade rader; skickligheten jämför CRPS med "
        "persistensprognosens (den senaste tidigare siffran, spridd med de observerade årliga "
        "förändringarna).",
    ),
    "plan_rows": (
        "{count} plan row(s) ({inside} inside the band)",
        "planrader: {count} ({inside} inom bandet)",
    ),
    "start_rows": (
        "{count} start row(s) (the model's inputs)",
        "startrader: {count} (modellens indata)",
    ),
    "shown_not_scored": ("shown, not scored: ", "visade, inte bedömda: "),
    "worst_misses": ("worst misses:", "största missar:"),
    "and": ("and", "och"),
    "p_bound": ("P(bound)", "P(gräns)"),
    "miss_line": (
        "line {line}: {cluster} {metric} {year}: observed {observed}, P10–P90 {band}, {score}",
        "rad {line}: {cluster} {metric} {year}: observerat {observed}, P10–P90 {band}, {score}",
    ),
    "not_scored_lines": (
        "{status} ({count}, not scored): lines ",
        "{status} ({count}, inte bedömda): rader ",
    ),
    "status.undated": ("skipped: undated", "överhoppad: odaterad"),
    "status.outside": (
        "skipped: outside the run's years {years}",
        "överhoppad: utanför körningens år {years}",
    ),
    "backtest_chart_title": (
        "'{title}' against observations — ● value, ▲ lower bound, ▼ upper bound (red: outside "
        "P10–P90; hollow grey: plan or start figure, not scored{split})",
        "'{title}' mot observationer — ● värde, ▲ nedre gräns, ▼ övre gräns (rött: utanför "
        "P10–P90; ihåligt grått: plan- eller startsiffra, inte bedömd{split})",
    ),
    "backtest_chart_split": (
        "; dashed: after {year}, out of sample",
        "; streckat: efter {year}, utanför urvalet",
    ),
    # an observed metric in the backtest chart (English: as the observations file names it)
    "metric.members": ("members", "medlemmar"),
    "metric.fee_income": ("fee_income", "medlemsavgifter (MSEK)"),
    "metric.private_income": ("private_income", "privat finansiering (MSEK)"),
    "metric.regional_base": ("regional_base", "regional basfinansiering (MSEK)"),
    "metric.arena_income": ("arena_income", "arenamedel (MSEK)"),
    "metric.other_public": ("other_public", "annan offentlig finansiering (MSEK)"),
    "metric.total_income": ("total_income", "total intäkt (MSEK)"),
    "metric.costs": ("costs", "kostnader (MSEK)"),
    "metric.reserves": ("reserves", "reserver (MSEK)"),
    "metric.joined": ("joined", "nya medlemmar"),
    "metric.left": ("left", "medlemmar som lämnat"),
    "metric.regional_share": ("regional_share", "regional andel av intäkterna"),
    "metric.surplus_spent": ("surplus_spent", "använt överskott (MSEK)"),
    "metric.settled": ("settled", "reglerat saldo vid nedläggning (MSEK)"),
    "metric.active_clusters": ("active_clusters", "aktiva kluster"),
    "metric.closed_clusters": ("closed_clusters", "nedlagda kluster"),
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


def label_or(key: str, text: str, lang: str = "en") -> str:
    """The label for ``key`` in ``lang``; ``text`` when there is none (a note or a status
    written with numbers in it, say)."""
    return label(key, lang) if key in _LABELS else text


def column_label(name: str, lang: str = "en") -> str:
    """A table's column heading in ``lang`` (``col.<name>``; the name itself when unknown)."""
    key = f"col.{name}"
    return label(key, lang) if key in _LABELS else name


def target_label(target: str, cluster_names: dict[str, str], lang: str = "en") -> str:
    """A scorecard target as a reader names it: ``no cluster lost``, or for a cluster's own
    target ``members ≥ target: Media Evolution`` (an unknown target by its id)."""
    kind, _, cluster = target.partition(":")
    key = f"target.{kind}"
    if key not in _LABELS:
        return target
    text = label(key, lang)
    return f"{text}: {cluster_names.get(cluster, cluster)}" if cluster else text


def chart_label(stem: str, lang: str = "en") -> str:
    """A chart file's caption (``funding_mix`` → ``funding mix``)."""
    key = f"chart.{stem}"
    return label(key, lang) if key in _LABELS else stem.replace("_", " ")


STRUCTURAL_SEGMENTS = frozenset({"default", "values", "overrides", "clusters"})
"""Key segments that say where a value sits in a config, not what it is."""


def input_label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """A readable name for a config key that a study varies (an uncertain input, a lever):
    the ``label`` the study file gives it (``labels``), else one made from the key:
    ``clusters.*.private_income`` → ``private income (every cluster)``,
    ``base_funding.overrides.iuc_syd.to_value`` → ``base funding to value (iuc syd)``,
    ``base_funding.default.values.2021`` → ``base funding 2021``."""
    if labels and labels.get(key):
        return labels[key]
    words: list[str] = []
    context: list[str] = []
    previous = ""
    for segment in key.split("."):
        if segment == "*":
            context.append("every cluster" if previous == "clusters" else "every")
        elif previous in ("clusters", "overrides"):
            context.append(segment.replace("_", " "))
        elif segment not in STRUCTURAL_SEGMENTS:
            words.append(segment.replace("_", " "))
        previous = segment
    text = " ".join(words) or key
    return f"{text} ({', '.join(context)})" if context else text
