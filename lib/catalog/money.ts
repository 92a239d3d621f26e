/** Money in the catalog: integer cents at the edges, in a leaf module anything may import. */

export type Cents = number;
export type PriceUnit = "second" | "video";

export interface Pricing {
  unit: PriceUnit;
  /** Cents per unit by resolution, without audio. */
  cents: Record<string, number>;
  /** Cents per unit by resolution when audio is generated (models with audio). */
  audioCents?: Record<string, number>;
}
