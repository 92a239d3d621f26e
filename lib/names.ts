/**
 * A name as one line of plain text: control and format characters (newlines, tabs, bidi
 * overrides, zero-width) become spaces, runs of spaces one; the zero-width joiner of emoji
 * sequences stays. Names end up in mails and pages.
 */
export function singleLineName(name: string): string {
  return name.replace(/(?!\u200d)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, " ").replace(/\s+/g, " ").trim();
}
