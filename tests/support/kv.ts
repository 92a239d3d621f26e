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

/** Every KV entry's key and value, as JSON: what a copy of the database would hold. */
export async function kvDump(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(JSON.stringify([e.key, e.value], (_k, v) => typeof v === "bigint" ? String(v) : v));
  }
  return out;
}
