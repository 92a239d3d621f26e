/**
 * `kv` whose `method` throws `message` on its first call only (an outage for one call); every
 * other use goes to the real database. For tests of what a failure leaves behind.
 */
export function kvFailingOnce(kv: Deno.Kv, method: keyof Deno.Kv, message: string): Deno.Kv {
  let failed = false;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === method && !failed) {
        failed = true;
        return () => {
          throw new Error(message);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
