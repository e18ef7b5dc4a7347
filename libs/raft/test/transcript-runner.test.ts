// The transcript machinery itself: parsing, rewriting, and that a wrong expectation fails.
import { executeTranscript, parseTranscript, serializeTranscript } from '../src/testing';

const SCRIPT = `# two nodes
add-nodes 2 voters=(1,2) index=2
----
stale

campaign 1
----
ok
`;

describe('transcripts', () => {
  it('parses commands, keyed and list arguments, comments and outputs', () => {
    const blocks = parseTranscript(SCRIPT);
    expect(blocks.map((b) => b.name)).toEqual(['add-nodes', 'campaign']);
    expect(blocks[0]!.args).toEqual([
      { key: '', values: ['2'] },
      { key: 'voters', values: ['1', '2'] },
      { key: 'index', values: ['2'] },
    ]);
    expect(blocks[0]!.preamble).toEqual(['# two nodes']);
    expect(blocks[1]!.expected).toBe('ok');
  });

  it('serializes back to the same text', () => {
    const blocks = parseTranscript(SCRIPT);
    expect(serializeTranscript(blocks, blocks.map((b) => b.expected))).toBe(SCRIPT);
  });

  it('reports a block whose output differs, and rewrites it', () => {
    const { mismatches, outputs, blocks } = executeTranscript(SCRIPT);
    expect(mismatches.map((m) => m.command)).toEqual(['add-nodes 2 voters=(1,2) index=2']);
    expect(mismatches[0]!.actual).toContain('1: Follower lead=0 term=1 vote=0 commit=2 applied=2');
    const rewritten = serializeTranscript(blocks, outputs);
    expect(executeTranscript(rewritten).mismatches).toEqual([]);
  });

  it('rejects a command without a separator', () => {
    expect(() => parseTranscript('campaign 1\nok\n')).toThrow(/expected '----'/);
  });

  it('stops on a mistake in the script rather than recording it as output', () => {
    expect(() => executeTranscript('frobnicate 1\n----\nok\n')).toThrow(/unknown command 'frobnicate'/);
    expect(() => executeTranscript('add-nodes 1 voters=(x)\n----\nok\n')).toThrow(/bad node id/);
  });
});
