import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { literalFirstLookup } from './literal-lookup';

describe('literalFirstLookup', () => {
  it('answers an IP literal at once, in the same tick', () => {
    const answers: Array<[string, number]> = [];
    literalFirstLookup('127.0.0.1', 4, (error, address, family) => {
      expect(error).toBeNull();
      answers.push([address, family]);
    });
    literalFirstLookup('::1', 6, (_error, address, family) => answers.push([address, family]));
    expect(answers).toEqual([['127.0.0.1', 4], ['::1', 6]]);
  });

  it('resolves a name through dns.lookup', async () => {
    const answer = await new Promise<[string, number]>((resolve, reject) =>
      literalFirstLookup('localhost', 4, (error, address, family) => (error ? reject(error) : resolve([address, family]))));
    expect(answer).toEqual(['127.0.0.1', 4]);
  });

  it('carries datagrams for a dgram socket', async () => {
    const receiver = createSocket('udp4');
    const sender = createSocket({ type: 'udp4', lookup: literalFirstLookup });
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', () => resolve()));
    const got = new Promise<string>((resolve) => receiver.once('message', (data) => resolve(data.toString())));
    sender.send(Buffer.from('hello'), receiver.address().port, '127.0.0.1');
    expect(await got).toBe('hello');
    sender.close();
    receiver.close();
  });
});
