import fc from 'fast-check';
import { SortedNames } from '../src/sorted-names';

function walk(map: SortedNames<number>, start = '', stopAfter = Infinity): [string, number][] {
  const seen: [string, number][] = [];
  map.forEachFrom(start, (name, value) => {
    seen.push([name, value]);
    return seen.length < stopAfter;
  });
  return seen;
}

test('keeps names in order across chunk splits, replaces values, and deletes', () => {
  const map = new SortedNames<number>(2);
  for (const [i, name] of ['m', 'c', 'x', 'a', 'q', 'e', 'z', 'b'].entries()) map.set(name, i);
  map.set('q', 40);
  expect(map.size).toBe(8);
  expect(walk(map).map(([n]) => n).join('')).toBe('abcemqxz');
  expect(walk(map, 'd', 3)).toEqual([
    ['e', 5],
    ['m', 0],
    ['q', 40],
  ]);
  expect(walk(map, 'zz')).toEqual([]);
  expect(map.delete('z')).toBe(true);
  expect(map.delete('z')).toBe(false);
  expect(map.delete('a')).toBe(true);
  expect(walk(map).map(([n]) => n).join('')).toBe('bcemqx');
  expect(map.size).toBe(6);
  map.assertInvariants();
});

test('agrees with a sorted-array model under random sets and deletes', () => {
  const name = fc.string({ maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', '\u00ff', '\u0000') });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), name, value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), name }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.array(op, { maxLength: 200 }), name, (chunkMax, ops, start) => {
      const map = new SortedNames<number>(chunkMax);
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          map.set(o.name, o.value);
          model.set(o.name, o.value);
        } else {
          expect(map.delete(o.name)).toBe(model.delete(o.name));
        }
        map.assertInvariants();
      }
      const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      expect(map.size).toBe(model.size);
      expect(walk(map)).toEqual(sorted);
      expect(walk(map, start)).toEqual(sorted.filter(([n]) => n >= start));
    }),
  );
});
