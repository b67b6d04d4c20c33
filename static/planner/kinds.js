// Codes the planner shows by name: the kinds of action and the value tiers.
import { t } from "./i18n.js";

export const KINDS = ["cross-sell", "up-sell", "retention", "service", "information"];
const NAMES = { "cross-sell": "kind.cross_sell", "up-sell": "kind.up_sell", retention: "kind.retention", service: "kind.service", information: "kind.information" };

/** A kind's name in the page's language; an unknown code as it came. */
export const kindName = (kind) => (NAMES[kind] ? t(NAMES[kind]) : kind);

// The value tiers (desktop/analytics/rfm.py TIER_ORDER).
const TIERS = { standard: "tier.standard", silver: "tier.silver", gold: "tier.gold", platinum: "tier.platinum" };
export const tierName = (tier) => (TIERS[tier] ? t(TIERS[tier]) : tier ?? "");
