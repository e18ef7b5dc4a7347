// keelutl: offline tools for Keel data directories. This file only dispatches
// `keelutl <group> <command> ...` to the command modules; add a group or command by adding
// it to COMMANDS.
import { walDumpCommand } from './wal-dump';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Record<string, { run: Command; summary: string }>> = {
  wal: {
    dump: { run: (args) => walDumpCommand(args), summary: 'print the records of a WAL' },
  },
};

function usage(): string {
  const lines = ['Usage: keelutl <group> <command> [options]', '', 'Commands:'];
  for (const [group, commands] of Object.entries(COMMANDS)) {
    for (const [name, command] of Object.entries(commands)) lines.push(`  ${group} ${name}\t${command.summary}`);
  }
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [group, name, ...rest] = argv;
  const command = group !== undefined && name !== undefined ? COMMANDS[group]?.[name] : undefined;
  if (!command) {
    const help = group === '--help' || group === '-h' || group === 'help';
    (help ? process.stdout : process.stderr).write(usage());
    return help ? 0 : 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`keelutl: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
