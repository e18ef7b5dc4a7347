import { requestMetadata } from './request-headers';

const base: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', '/a.B/C'], [':authority', 'http://h:1']];

describe('requestMetadata', () => {
  test('keeps pseudo-headers and lower-case fields, joining repeated fields', () => {
    const metadata = requestMetadata([...base, ['x-a', '1'], ['x-a', '2'], ['constructor', 'c']]);
    expect(metadata).toEqual({ ':method': 'POST', ':scheme': 'http', ':path': '/a.B/C', ':authority': 'http://h:1', 'x-a': '1, 2', constructor: 'c' });
  });

  test.each([
    ['a pseudo-header after a field', [[':method', 'POST'], ['x', '1'], [':path', '/']]],
    ['an unknown pseudo-header', [...base, [':status', '200']]],
    ['a duplicate pseudo-header', [...base.slice(0, 3), [':path', '/x']]],
    ['an upper-case name', [...base, ['X-Up', '1']]],
    ['a connection-specific field', [...base, ['connection', 'close']]],
    ['te other than trailers', [...base, ['te', 'gzip']]],
    ['a missing :path', [[':method', 'POST']]],
  ] as [string, [string, string][]][])('refuses %s', (_name, headers) => {
    expect(typeof requestMetadata(headers)).toBe('string');
  });
});
