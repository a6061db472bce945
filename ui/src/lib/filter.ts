// The search filter grammar, as far as the UI needs it: quoting keys, naming columns for
// order_by, and suggestions while the user types a filter.
import type { RunKeys } from "./types";

export const PARENT_TAG = "mlflow.parentRunId";
export const NOTE_TAG = "mlflow.note.content";

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A key as the grammar wants it: bare when it is a plain identifier, else backticked. */
export function quoteKey(key: string): string {
  return PLAIN.test(key) ? key : `\`${key.replace(/`/g, "``")}\``;
}

/** A string literal. */
export function quoteValue(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function and(...parts: (string | null | undefined)[]): string {
  return parts
    .map((p) => p?.trim())
    .filter(Boolean)
    .join(" AND ");
}

const TOP_LEVEL = `tags.\`${PARENT_TAG}\` IS NULL`;
export const topLevelFilter = (user: string) => and(TOP_LEVEL, user);

/** The server's message about a filter the UI prefixed with the top-level condition, told
 * in terms of what the user typed: the prefix removed, the position shifted, a caret added. */
export function explainFilterError(message: string, user: string): { text: string; position: number | null } {
  const prefix = `${TOP_LEVEL} AND `;
  let text = message.replace(`"${prefix}${user}"`, `"${user}"`);
  const shift = text === message ? 0 : prefix.length;
  let position: number | null = null;
  text = text.replace(/position (\d+)/, (_, n: string) => {
    position = Math.max(0, Number(n) - shift);
    return `position ${position}`;
  });
  return { text, position };
}
export const childrenFilter = (runId: string) => `tags.\`${PARENT_TAG}\` = ${quoteValue(runId)}`;

/** A user-chosen column: `metrics.loss:min`, `params.lr`, `tags.team`. */
export interface Column {
  id: string;
  entity: "metrics" | "params" | "tags";
  key: string;
  aggregate: "latest" | "min" | "max" | "count";
}

export function parseColumn(id: string): Column | null {
  const dot = id.indexOf(".");
  if (dot < 0) return null;
  const entity = id.slice(0, dot);
  let key = id.slice(dot + 1);
  if (entity !== "metrics" && entity !== "params" && entity !== "tags") return null;
  let aggregate: Column["aggregate"] = "latest";
  if (entity === "metrics") {
    const colon = key.lastIndexOf(":");
    const agg = colon >= 0 ? key.slice(colon + 1) : "";
    if (agg === "latest" || agg === "min" || agg === "max" || agg === "count") {
      aggregate = agg;
      key = key.slice(0, colon);
    }
  }
  if (!key) return null;
  return { id: columnId(entity, key, aggregate), entity, key, aggregate };
}

export function columnId(entity: Column["entity"], key: string, aggregate: Column["aggregate"] = "latest"): string {
  return entity === "metrics" ? `metrics.${key}:${aggregate}` : `${entity}.${key}`;
}

/** The order_by identifier sorting by a column (metric aggregates are a cairn extension). */
export function columnOrderKey(column: Column): string {
  const base = `${column.entity}.${quoteKey(column.key)}`;
  return column.entity === "metrics" && column.aggregate !== "latest" ? `${base}.${column.aggregate}` : base;
}

export const ATTRIBUTE_SORTS: Record<string, string> = {
  run_name: "attributes.run_name",
  status: "attributes.status",
  start_time: "attributes.start_time",
  end_time: "attributes.end_time",
  user_id: "attributes.user_id",
};

// -- suggestions -----------------------------------------------------------------------------

export interface Suggestion {
  label: string;
  detail: string;
  insert: string;
}

const ATTRIBUTES = ["run_name", "run_id", "status", "user_id", "start_time", "end_time", "duration", "artifact_uri"];
const ENTITIES: [string, keyof RunKeys | null, string][] = [
  ["metrics.", "metrics", "latest value of a metric; .min .max .count for aggregates"],
  ["params.", "params", "a parameter (quoted string)"],
  ["tags.", "tags", "a tag (quoted string)"],
  ["attributes.", null, "run_name, status, start_time, ..."],
  ["datasets.", null, "name, digest, context"],
];
const ALIASES: Record<string, keyof RunKeys | "attributes" | "datasets"> = {
  metrics: "metrics",
  metric: "metrics",
  params: "params",
  param: "params",
  parameter: "params",
  parameters: "params",
  tags: "tags",
  tag: "tags",
  attributes: "attributes",
  attribute: "attributes",
  attr: "attributes",
  run: "attributes",
  datasets: "datasets",
  dataset: "datasets",
};
const OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "IS NULL", "IS NOT NULL"];

/** Quotes the grammar knows: backticks and double quotes around keys, single quotes around
 * values. Inside them a space or an operator character does not end a word. */
const QUOTES = "`\"'";

/** The token being typed at `cursor`: its start and text. Stops at spaces and operators
 * outside quotes; a quoted key (metrics.`train/acc top1`) is one token. */
export function tokenAt(text: string, cursor: number): { start: number; token: string } {
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < cursor; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch !== quote) continue;
      quote = null;
      if (ch === "'") start = i + 1; // a value is not part of the next token
    } else if (QUOTES.includes(ch)) {
      quote = ch;
      if (ch === "'") start = i + 1;
    } else if (/[\s=<>!(),]/.test(ch)) {
      start = i + 1;
    }
  }
  return { start, token: text.slice(start, cursor) };
}

/** The last word before `start`, words split at spaces outside quotes: after
 * metrics.`train/acc top1` it is that whole key, not "top1`". */
function previousWord(text: string, start: number): string {
  let word = "";
  let last = "";
  let quote: string | null = null;
  for (const ch of text.slice(0, start)) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (QUOTES.includes(ch)) {
      quote = ch;
    } else if (/\s/.test(ch)) {
      if (word) last = word;
      word = "";
      continue;
    }
    word += ch;
  }
  return word || last;
}

/** Suggestions for the token at `cursor`, best first (at most `limit`). */
export function suggest(
  text: string,
  cursor: number,
  keys: RunKeys | undefined,
  limit = 12,
): {
  start: number;
  end: number;
  items: Suggestion[];
} {
  const { start, token } = tokenAt(text, cursor);
  const items: Suggestion[] = [];
  const lower = token.toLowerCase();
  const dot = token.indexOf(".");
  if (dot > 0) {
    const entity = ALIASES[token.slice(0, dot).replace(/[`"]/g, "").toLowerCase()];
    const partial = token
      .slice(dot + 1)
      .replace(/[`"]/g, "")
      .toLowerCase();
    let pool: string[] = [];
    if (entity === "attributes") pool = ATTRIBUTES;
    else if (entity === "datasets") pool = ["name", "digest", "context"];
    else if (entity && keys) pool = keys[entity];
    const starts: string[] = [];
    const contains: string[] = [];
    for (const key of pool) {
      const k = key.toLowerCase();
      if (k.startsWith(partial)) starts.push(key);
      else if (partial && k.includes(partial)) contains.push(key);
      if (starts.length >= limit) break;
    }
    for (const key of [...starts, ...contains].slice(0, limit)) {
      items.push({ label: `${entity}.${key}`, detail: entity ?? "", insert: `${entity}.${quoteKey(key)} ` });
    }
  } else {
    const prev = previousWord(text, start);
    const afterIdentifier =
      /^[A-Za-z`"]/.test(prev) && /[.`"A-Za-z0-9_]$/.test(prev) && !/^(and|in|like|ilike|is|not|null)$/i.test(prev);
    if (afterIdentifier && prev.includes(".")) {
      for (const op of OPERATORS)
        if (op.toLowerCase().startsWith(lower)) items.push({ label: op, detail: "operator", insert: `${op} ` });
    } else {
      for (const [label, , detail] of ENTITIES)
        if (label.startsWith(lower)) items.push({ label, detail, insert: label });
      for (const attr of ATTRIBUTES)
        if (lower && attr.startsWith(lower)) items.push({ label: attr, detail: "attribute", insert: `${attr} ` });
      if (lower && "and".startsWith(lower)) items.push({ label: "AND", detail: "keyword", insert: "AND " });
    }
  }
  return { start, end: cursor, items: items.slice(0, limit) };
}
