/** API errors as the app shows them: a code for programs, a sentence for people, the field when one is at fault. */
import type { ZodError } from 'zod';
import type { ApiError } from '../../shared/api';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Response headers that go with the error, such as Retry-After. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }

  toBody(): ApiError {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export function validationError(error: ZodError): HttpError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  const message = issue?.message ?? 'The request is not valid.';
  return new HttpError(400, 'invalid_request', field && !message.includes(field) ? `${field}: ${message}` : message, field);
}
