/**
 * Requests written as wire text for integration tests, and answers to the requests the PBX sends a
 * device (NOTIFY, MESSAGE, INVITE), the way a device writes them.
 */
import { randomBytes } from 'node:crypto';
import type { ParsedResponse } from './sip-ws-client';

export interface RequestOptions {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** The Via host: the client's invented `.invalid` name. */
  host: string;
  headers?: Array<[string, string]>;
  body?: string;
}

export function requestText({ method, uri, from, to, callId, cseq, host, headers = [], body = '' }: RequestOptions): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WSS ${host};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** The request line and body of a message the PBX sent (ParsedResponse reads headers of either kind). */
export function requestLine(message: ParsedResponse): { method: string; uri: string; body: string } {
  const [head = '', ...rest] = message.raw.split('\r\n\r\n');
  const [method = '', uri = ''] = (head.split('\r\n')[0] ?? '').split(' ');
  return { method, uri, body: rest.join('\r\n\r\n') };
}

/** A response to a request the PBX sent, as the device that received it writes it. */
export function responseText(request: ParsedResponse, status: number, reason: string, toTag = randomBytes(4).toString('hex')): string {
  const to = request.header('To') ?? '';
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...request.headerAll('Via').map((via) => `Via: ${via}`),
    `From: ${request.header('From') ?? ''}`,
    `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`,
    `Call-ID: ${request.header('Call-ID') ?? ''}`,
    `CSeq: ${request.header('CSeq') ?? ''}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
