/**
 * The hosted speech-to-text adapter against a fake service on 127.0.0.1 (the edge of the system): what it
 * sends, what it makes of the answers, and when it tries again.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostedEngine } from '../../server/features/transcription/hosted';
import { TranscriptionError } from '../../server/features/transcription/engine';

interface Received {
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

describe('hosted transcription adapter', () => {
  let server: Server;
  let url: string;
  let received: Received[];
  let answer: (request: Received, response: ServerResponse, index: number) => void;

  beforeEach(async () => {
    received = [];
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const got = { method: request.method ?? '', authorization: request.headers.authorization, contentType: request.headers['content-type'], body: Buffer.concat(chunks) };
        received.push(got);
        answer(got, response, received.length - 1);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/transcribe`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  };
  const second = (rate: number) => ({ samples: Int16Array.from({ length: rate }, (_, i) => Math.round(8000 * Math.sin(i / 5))), rate });
  const transcribe = (engine: HostedEngine, rate = 16_000) => engine.transcribe(second(rate), new AbortController().signal);
  const failure = (engine: HostedEngine) => transcribe(engine).then(
    () => undefined,
    (error: unknown) => error as TranscriptionError,
  );

  it('posts the audio as a WAV with the key, and returns the text', async () => {
    answer = (_request, response) => json(response, 200, { text: '  Hello, this is Bob. ' });
    const engine = new HostedEngine({ url, key: 's3cret' });
    expect(await transcribe(engine)).toBe('Hello, this is Bob.');
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.authorization).toBe('Bearer s3cret');
    expect(request?.contentType).toBe('audio/wav');
    const wav = request!.body;
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16_000);
    expect(wav.readUInt32LE(40)).toBe(32_000);
    expect(wav.readInt16LE(44 + 2 * 7)).toBe(second(16_000).samples[7]);
  });

  it('sends narrowband audio at 8 kHz as it is', async () => {
    answer = (_request, response) => json(response, 200, { text: 'call me' });
    const engine = new HostedEngine({ url, key: 'k' });
    expect(engine.rates.narrowband).toBe(8_000);
    expect(await transcribe(engine, 8_000)).toBe('call me');
    expect(received[0]?.body.readUInt32LE(24)).toBe(8_000);
  });

  it('does not try again when the key is refused, and says so', async () => {
    answer = (_request, response) => json(response, 401, { error: 'invalid key' });
    const error = await failure(new HostedEngine({ url, key: 'wrong', backoffMs: 1 }));
    expect(error).toBeInstanceOf(TranscriptionError);
    expect(error?.message).toBe('the transcription service refused the key (HTTP 401); check --transcription-key');
    expect(error?.retryable).toBe(false);
    expect(received).toHaveLength(1);
  });

  it('gives up on a service that does not answer in time, after trying each time', async () => {
    answer = () => undefined; // never answers
    const started = Date.now();
    const error = await failure(new HostedEngine({ url, key: 'k', timeoutMs: 200, attempts: 2, backoffMs: 10 }));
    expect(error?.message).toBe('the transcription service did not answer within 0.2 s');
    expect(error?.retryable).toBe(true);
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('tries again after a 500, pausing as the backoff says, and takes the next answer', async () => {
    answer = (_request, response, index) => (index === 0 ? response.writeHead(500).end('overloaded') : json(response, 200, { text: 'second time' }));
    const started = Date.now();
    expect(await transcribe(new HostedEngine({ url, key: 'k', backoffMs: 150 }))).toBe('second time');
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('honours Retry-After on 429, and reports the last failure when every attempt fails', async () => {
    answer = (_request, response) => response.writeHead(429, { 'Retry-After': '0' }).end('slow down');
    const error = await failure(new HostedEngine({ url, key: 'k', attempts: 3, backoffMs: 60_000 }));
    expect(error?.message).toBe('the transcription service failed (HTTP 429): slow down');
    expect(received).toHaveLength(3);
  });

  it('refuses an answer without text, and a rejected request, without trying again', async () => {
    answer = (_request, response) => json(response, 200, { transcript: 'wrong field' });
    expect((await failure(new HostedEngine({ url, key: 'k' })))?.message).toBe('the transcription service answered without text: expected JSON {"text": "..."}: {"transcript":"wrong field"}');
    answer = (_request, response) => response.writeHead(413).end();
    expect((await failure(new HostedEngine({ url, key: 'k' })))?.message).toBe('the transcription service rejected the audio (HTTP 413)');
    expect(received).toHaveLength(2);
  });

  it('says when nothing listens at the URL, naming only its origin', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(new HostedEngine({ url: `http://127.0.0.1:${port}/path?token=abc`, key: 'k', attempts: 1 }));
    expect(error?.message).toMatch(new RegExp(`^the transcription service at http://127.0.0.1:${port} could not be reached: .*ECONNREFUSED`));
    expect(error?.retryable).toBe(true);
  });

  it('stops waiting when the PBX shuts down', async () => {
    answer = () => undefined;
    const stopping = new AbortController();
    const running = new HostedEngine({ url, key: 'k' }).transcribe(second(16_000), stopping.signal);
    setTimeout(() => stopping.abort(), 100);
    await expect(running).rejects.toThrow(/shutting down/);
  });
});
