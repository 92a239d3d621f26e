/**
 * The message for a `?m=` code, or null. Own keys only: `?m=constructor` must not find
 * Object.prototype's function and render it as an empty notice.
 */
export function noticeFor(messages: Record<string, string>, code: string | null): string | null {
  return code !== null && Object.hasOwn(messages, code) ? messages[code] : null;
}
