"""Words for the ledger's codes (sectors, kinds, phases, statuses...), marked for translation.

Each table maps a code to an English msgid; the presenter translates it. A code the table
does not know (a newer ledger) is shown as it is.
"""

from __future__ import annotations

from .i18n import N_

SECTORS = {
    "npo": N_("nonprofit organisation (NPO)"),
    "prefecture": N_("prefecture"),
    "municipality": N_("municipality"),
    "national_government": N_("national government"),
    "public_agency": N_("public agency"),
    "business": N_("business"),
    "chamber_of_commerce": N_("chamber of commerce"),
    "intermediary": N_("intermediary organisation"),
    "resident_group": N_("residents' group"),
    "other": N_("other"),
}

PHASES = {
    "preparing": N_("in preparation"),
    "active": N_("active"),
    "concluded": N_("concluded"),
}

KINDS = {
    "money": N_("money"),
    "staff_time": N_("staff time"),
    "facility": N_("facilities"),
    "equipment": N_("equipment"),
    "expertise": N_("expertise"),
    "volunteer_time": N_("volunteer time"),
    "network": N_("networks and contacts"),
    "information": N_("information"),
    "other": N_("other resources"),
}

INSTRUMENTS = {
    "contribution": N_("joint contribution"),
    "subsidy": N_("subsidy"),
    "commission": N_("commissioning"),
    "grant": N_("grant"),
    "other": N_("other funding"),
    "unspecified": N_("not stated"),
}

RULES = {"consensus": N_("consensus"), "majority": N_("majority")}

VOTES = {"for": N_("for"), "against": N_("against"), "abstain": N_("abstained")}

AGREEMENT_STATUSES = {
    "in_force": N_("in force"),
    "awaiting_signatures": N_("awaiting signatures"),
    "terminated": N_("terminated"),
}

TARGET_STATUSES = {
    "achieved": N_("achieved"),
    "on_track": N_("on track"),
    "off_track": N_("off track"),
    "no_data": N_("no data yet"),
}

DIRECTIONS = {"increase": N_("higher is better"), "decrease": N_("lower is better")}

EVALUATION_STATUSES = {"open": N_("open"), "closed": N_("closed")}

ROLES = {"resident": N_("residents"), "party": N_("parties"), "external": N_("external evaluators")}

TIMELINE_EVENTS = {
    "term_starts": N_("%(agreement)s: the agreed term begins"),
    "signed": N_("%(agreement)s: signed by %(party)s"),
    "amendment_proposed": N_("%(agreement)s: %(party)s proposed amendment %(amendment)s"),
    "amendment_consented": N_("%(agreement)s: %(party)s consented to amendment %(amendment)s"),
    "amendment_effective": N_("%(agreement)s: amendment %(amendment)s took effect (every party consented)"),
    "terminated": N_("%(agreement)s: terminated (%(reason)s)"),
    "term_ends": N_("%(agreement)s: the agreed term ends"),
}
