import { FRONT_END_ENV, GrpcServer, defaultFrontEnd } from './server';

describe('choosing the gRPC front end', () => {
  test('the lean server unless the environment names node-http2', () => {
    expect(defaultFrontEnd({})).toBe('lean');
    expect(defaultFrontEnd({ [FRONT_END_ENV]: 'node-http2' })).toBe('node-http2');
    expect(defaultFrontEnd({ [FRONT_END_ENV]: 'lean' })).toBe('lean');
    expect(defaultFrontEnd({ [FRONT_END_ENV]: 'bogus' })).toBe('lean');
  });

  test('each front end exposes only its own entry point', () => {
    const lean = new GrpcServer({ maxReceiveMessageBytes: 1024, frontEnd: 'lean' });
    const node = new GrpcServer({ maxReceiveMessageBytes: 1024, frontEnd: 'node-http2' });
    expect(lean.frontEnd).toBe('lean');
    expect(() => lean.http2Server).toThrow(/lean/);
    expect(node.http2Server.listening).toBe(false);
    expect(() => node.acceptConnection(null as never, Buffer.alloc(0))).toThrow(/lean/);
  });
});
