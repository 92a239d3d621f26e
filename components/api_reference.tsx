import { Fragment } from "preact";

/** The API reference, rendered on the server from the OpenAPI document (no third-party script). */

interface Schema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: Schema;
  }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

function resolve(doc: OpenApi, s: Schema | undefined): Schema | undefined {
  const name = s?.$ref?.split("/").pop();
  return name ? doc.components?.schemas?.[name] : s;
}

function typeOf(doc: OpenApi, s: Schema | undefined): string {
  const r = resolve(doc, s);
  if (!r) return "";
  if (s?.$ref) return s.$ref.split("/").pop()!;
  if (r.enum) return r.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = r.anyOf ?? r.oneOf;
  if (alts) return alts.map((a) => typeOf(doc, a)).join(" | ");
  if (r.type === "array") return `${typeOf(doc, r.items)}[]`;
  return Array.isArray(r.type) ? r.type.join(" | ") : r.type ?? "object";
}

const anchorOf = (method: string, path: string) =>
  `op-${method}-${path.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}`;

export function ApiReference(props: { doc: unknown }) {
  const doc = props.doc as OpenApi;
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({ path, method, op }))
  );
  return (
    <div class="api-reference">
      {ops.map(({ path, method, op }) => {
        const body = resolve(doc, op.requestBody?.content?.["application/json"]?.schema);
        return (
          <section key={anchorOf(method, path)} id={anchorOf(method, path)} class="api-op">
            <h3>
              <code>
                {method.toUpperCase()} {path}
              </code>
            </h3>
            {op.summary && <p>{op.summary}</p>}
            {op.parameters && op.parameters.length > 0 && (
              <dl class="details-list">
                {op.parameters.map((p) => (
                  <Fragment key={p.name}>
                    <dt>
                      <code>{p.name}</code>
                    </dt>
                    <dd>
                      {p.in}, {typeOf(doc, p.schema)}
                      {p.required ? ", required" : ""}
                      {p.description ? ` — ${p.description}` : ""}
                    </dd>
                  </Fragment>
                ))}
              </dl>
            )}
            {body?.properties && (
              <>
                <h4>Body (JSON)</h4>
                <dl class="details-list">
                  {Object.entries(body.properties).map(([name, s]) => (
                    <Fragment key={name}>
                      <dt>
                        <code>{name}</code>
                      </dt>
                      <dd>
                        {typeOf(doc, s)}
                        {body.required?.includes(name) ? ", required" : ""}
                        {resolve(doc, s)?.description ? ` — ${resolve(doc, s)!.description}` : ""}
                      </dd>
                    </Fragment>
                  ))}
                </dl>
              </>
            )}
            {op.responses && (
              <p class="muted">
                Responses:{" "}
                {Object.entries(op.responses).map(([code, r]) => `${code} ${r.description ?? ""}`)
                  .join(" · ")}
              </p>
            )}
          </section>
        );
      })}
    </div>
  );
}
