/**
 * The model catalog (DESIGN.md, "Where things go"): the shipped data, operator entries from
 * CATALOG_FILE, pricing and route choice. Import from here, or money.ts for the money type alone.
 */
export * from "./money.ts";
export * from "./types.ts";
export * from "./shipped.ts";
export * from "./pricing.ts";
export * from "./routing.ts";
export * from "./operator.ts";
