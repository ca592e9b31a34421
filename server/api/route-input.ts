/**
 * Reading a request's input in the REST routes, the same way in each: a body or query checked by its zod schema
 * (a 400 naming the field, api/errors.ts), and the `:id` of a path, where an id that is not a positive whole
 * number answers 404 with the route's own sentence, as an id that does not exist would.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError, validationError } from './errors';

const IdParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** `value` checked by `schema`; a missing body or query counts as `{}`. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** The path's `:id`, or a 404 saying `notFound` (e.g. "There is no such greeting."). */
export function pathId(request: FastifyRequest, notFound: string): number {
  const parsed = IdParams.safeParse(request.params);
  if (!parsed.success) throw new HttpError(404, 'not_found', notFound);
  return parsed.data.id;
}
