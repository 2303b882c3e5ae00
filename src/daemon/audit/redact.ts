/** What stands in for a secret in the audit log. */
export const REDACTED = '***';

// Matched anywhere in a key, in any case: chap `secret`, `targetSecret`, `initiatorSecret`, `password`,
// `sessionToken`, AWS `credentials` (a whole object is hidden, not just its leaves).
const SECRET_WORD = /secret|passw(?:or)?d|passphrase|token|credential|authorization/i;
// "key" only as a word of its own (`key`, `api_key`, `API-KEY`) or the last camelCase word (`secretAccessKey`,
// `privateKey`), so names that merely end in the letters (`monkey`) and `keyPrefix`, `maxKeys` stay readable.
const KEY_WORD = /(?:^|[^a-z])key$/i;
const CAMEL_KEY = /[a-z0-9]Key$/;

// Parameters arrive as parsed JSON, which can nest deeper than the stack; nobody needs that much in an audit log.
const MAX_DEPTH = 32;
const TOO_DEEP = '[nested too deep]';

// Shorter values are too likely to occur by chance in an error message to be masked there.
const MIN_MASKED_LENGTH = 4;

export function isSecretKey(key: string): boolean {
  return SECRET_WORD.test(key) || KEY_WORD.test(key) || CAMEL_KEY.test(key);
}

/** A deep copy of `value` in which everything under a secret key is REDACTED. */
export function redact(value: unknown): unknown {
  return copy(value, 0);
}

function copy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty, because a parsed "__proto__" key is an own property that plain assignment would not copy.
    Object.defineProperty(out, key, { value: isSecretKey(key) ? REDACTED : copy(item, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * `text` with every secret of `params` masked. Error messages quote what the caller sent (e.g. "x is not a gateway
 * name"), and a secret given in the wrong field must not reach the log through one.
 */
export function maskSecrets(text: string, params: unknown): string {
  const secrets = new Set<string>();
  collectSecrets(params, false, 0, secrets);
  let masked = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) masked = masked.split(secret).join(REDACTED);
  return masked;
}

function collectSecrets(value: unknown, underSecretKey: boolean, depth: number, into: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    const text = String(value);
    if (underSecretKey && text.length >= MIN_MASKED_LENGTH) into.add(text);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, underSecretKey, depth + 1, into);
    return;
  }
  for (const [key, item] of Object.entries(value)) collectSecrets(item, underSecretKey || isSecretKey(key), depth + 1, into);
}
