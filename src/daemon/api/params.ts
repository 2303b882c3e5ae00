import { z } from 'zod';
import { UsageError } from '../../errors.js';

/** Validates a request's params; a request the schema rejects is the caller's mistake, never a daemon crash. */
export function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.infer<T> {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new UsageError(`invalid request: ${where}${issue?.message ?? 'malformed parameters'}`, 'SGW_INVALID_ARGUMENT');
}

const noParams = z.object({}).strict();

/** A handler for a method that takes no params: anything sent along is refused rather than ignored. */
export function withoutParams<T>(handler: () => T): (params: unknown) => T {
  return (params) => {
    parseParams(noParams, params);
    return handler();
  };
}
