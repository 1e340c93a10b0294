/**
 * Text as the database takes it. Neon refuses a statement whose JSON holds an unpaired UTF-16
 * surrogate (half an emoji, from a client or a model cut mid-character) with 400: the write would fail
 * and, for a reply's final save, leave it STREAMING. Every string bound for the database passes here;
 * an unpaired surrogate becomes U+FFFD, which is what PostgreSQL would have stored anyway.
 */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/**
 * `value` with every string in it (keys too) well-formed: for parsed request bodies, whose strings
 * reach titles, contents and metadata. Iterative, so nesting depth costs no stack; the input is
 * already bounded by the body limit.
 */
export function wellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return wellFormed(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const root = { value: value as unknown };
  const stack: Array<[Record<string, unknown> | unknown[], string | number]> = [
    [root as Record<string, unknown>, 'value'],
  ];
  while (stack.length > 0) {
    const [parent, key] = stack.pop() as [Record<string | number, unknown>, string | number];
    const current = parent[key];
    if (typeof current === 'string') {
      if (!current.isWellFormed()) parent[key] = current.toWellFormed();
    } else if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) stack.push([current, i]);
    } else if (current !== null && typeof current === 'object') {
      const object = current as Record<string, unknown>;
      for (const name of Object.keys(object)) {
        if (!name.isWellFormed()) {
          object[name.toWellFormed()] = object[name];
          delete object[name];
          stack.push([object, name.toWellFormed()]);
        } else {
          stack.push([object, name]);
        }
      }
    }
  }
  return root.value as T;
}
