#!/usr/bin/env node
// Renders what the package ships besides the program, from the oclif manifest of the build being packaged:
// bash completion for sgw, sgw(1) and sgwd(8). Static files, so completion costs no node start per <Tab>.
//   node render-docs.mjs APP_DIR OUT_DIR
// APP_DIR holds package.json, oclif.manifest.json and bin/sgwd.js; SOURCE_DATE_EPOCH dates the man pages.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [appDir, outDir] = process.argv.slice(2);
if (!appDir || !outDir) {
  process.stderr.write('usage: render-docs.mjs APP_DIR OUT_DIR\n');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(path.join(appDir, 'oclif.manifest.json'), 'utf8'));
const topics = pkg.oclif?.topics ?? {};
const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toISOString().slice(0, 10);

/** Every command id, aliases included (`gateway:activate`), with the command it names. */
const commands = new Map();
for (const [id, command] of Object.entries(manifest.commands)) {
  if (command.hidden) continue;
  commands.set(id, command);
  for (const alias of command.aliases ?? []) commands.set(alias, command);
}

function flagWords(command) {
  const words = Object.values(command.flags ?? {})
    .filter((flag) => !flag.hidden)
    .flatMap((flag) => [`--${flag.name}`, ...(flag.allowNo ? [`--no-${flag.name}`] : [])]);
  return [...words, '--help'].sort();
}

function bashCompletion() {
  // Keys start with "sgw": bash has no empty key for the top level.
  const next = new Map([['sgw', new Set()]]);
  for (const id of [...commands.keys(), ...Object.keys(topics)]) {
    const parts = ['sgw', ...id.split(':')];
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(':');
      if (!next.has(parent)) next.set(parent, new Set());
      next.get(parent).add(parts[i]);
    }
  }
  const topicLines = [...next].sort(([a], [b]) => a.localeCompare(b))
    .map(([id, children]) => `\t\t[${JSON.stringify(id)}]=${JSON.stringify([...children].sort().join(' '))}`);
  const flagLines = [...commands].sort(([a], [b]) => a.localeCompare(b))
    .map(([id, command]) => `\t\t[${JSON.stringify(`sgw:${id}`)}]=${JSON.stringify(flagWords(command).join(' '))}`);
  return `# bash completion for sgw ${pkg.version}: commands, topics and flags, rendered from its command manifest.
_sgw() {
	local -A topics=(
${topicLines.join('\n')}
	)
	local -A flags=(
${flagLines.join('\n')}
	)
	local cur=\${COMP_WORDS[COMP_CWORD]} id=sgw key words= i
	# The words that extend a known topic or command name it; the others are arguments and flag values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		key=$id:\${COMP_WORDS[i]}
		[[ -n \${topics[$key]+set} || -n \${flags[$key]+set} ]] && id=$key
	done
	if [[ -n \${flags[$id]+set} ]]; then
		[[ $cur == -* ]] && words=\${flags[$id]}
	elif [[ $cur == -* ]]; then
		words=--help
		[[ $id == sgw ]] && words="--help --version"
	else
		words=\${topics[$id]}
	fi
	# Command arguments are mostly paths (disks, devices): readline's file names when there is nothing better.
	[[ -n $words ]] && mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -o default -F _sgw sgw
`;
}

/** roff text: escapes, and no line that starts like a request. */
function roff(text) {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').split('\n').map((line) => (/^[.']/.test(line) ? `\\&${line}` : line)).join('\n');
}

function example(text) {
  return text.replace(/<%= config\.bin %>/g, 'sgw');
}

function sgwPage() {
  const lines = [
    `.TH SGW 1 ${date} "sgw ${pkg.version}" "User Commands"`,
    '.SH NAME',
    'sgw \\- drive the sgw storage gateway daemon',
    '.SH SYNOPSIS',
    '.B sgw',
    '.I topic command',
    '[\\fIarguments\\fR] [\\fB\\-\\-json\\fR] [\\fB\\-\\-socket\\fR \\fIPATH\\fR]',
    '.SH DESCRIPTION',
    roff(pkg.description) + '.',
    'The',
    '.B sgw',
    'command sends each request to',
    '.BR sgwd (8)',
    'over its control socket, which root and the members of the',
    '.B sgw',
    'group may use. Every command takes',
    '.BR \\-\\-json ;',
    'output piped to another program is JSON too, and a terminal gets tables.',
    'Exit status: 0 done, 1 the request could not be done (the message says what to do), 2 the command line is wrong.',
  ];
  lines.push('.SH TOPICS');
  for (const [id, topic] of Object.entries(topics)) lines.push('.TP', `.B ${roff(id.replace(/:/g, ' '))}`, roff(topic.description ?? ''));
  lines.push('.SH COMMANDS');
  for (const [id, command] of Object.entries(manifest.commands)) {
    if (command.hidden) continue;
    const args = Object.values(command.args ?? {}).map((arg) => (arg.required ? arg.name.toUpperCase() : `[${arg.name.toUpperCase()}]`));
    lines.push(`.SS "sgw ${roff([id.replace(/:/g, ' '), ...args].join(' '))}"`);
    lines.push(roff(command.summary ?? ''));
    for (const paragraph of (command.description ?? '').split(/\n\n+/).filter(Boolean)) lines.push('.PP', roff(paragraph));
    for (const flag of Object.values(command.flags ?? {})) {
      if (flag.hidden || flag.helpGroup === 'GLOBAL') continue;
      const value = flag.type === 'option' ? ` \\fI${roff(flag.helpValue ?? flag.name.toUpperCase())}\\fR` : '';
      lines.push('.TP', `\\fB${roff(`--${flag.allowNo ? `[no-]${flag.name}` : flag.name}`)}\\fR${value}`, roff(flag.description ?? ''));
    }
    if (command.examples?.length) lines.push('.PP', 'Examples:', '.RS', '.nf', ...command.examples.map((e) => roff(example(e))), '.fi', '.RE');
  }
  lines.push(
    '.SH OPTIONS',
    '.TP', '\\fB\\-\\-socket\\fR \\fIPATH\\fR',
    'the control socket of sgwd (environment SGW_SOCKET; default /run/sgw/sgw.sock for root).',
    '.TP', '\\fB\\-\\-json\\fR', 'print the result as JSON.',
    '.SH FILES',
    '.TP', '/run/sgw/sgw.sock', 'the control socket of the sgwd service.',
    '.SH SEE ALSO',
    '.BR sgwd (8)',
    '',
  );
  return lines.join('\n');
}

function sgwdPage() {
  const help = execFileSync(process.execPath, [path.join(appDir, 'bin', 'sgwd.js'), '--help'], {
    encoding: 'utf8',
    // The help shows defaults; those of the service, whoever builds the package.
    env: { ...process.env, SGW_STATE_DIR: '/var/lib/sgw', SGW_SOCKET: '/run/sgw/sgw.sock' },
  });
  const [usage = '', ...rest] = help.split('\n\n');
  return [
    `.TH SGWD 8 ${date} "sgw ${pkg.version}" "System Administration"`,
    '.SH NAME',
    'sgwd \\- the sgw storage gateway daemon',
    '.SH SYNOPSIS',
    '.nf', roff(usage.replace(/^Usage: /, '')), '.fi',
    '.SH DESCRIPTION',
    'The sgwd systemd service runs it as',
    '.BR "sgwd \\-\\-foreground" ,',
    'with the settings of /etc/sgw/sgwd.env.',
    '.PP',
    '.nf', roff(rest.join('\n\n').trimEnd()), '.fi',
    '.SH FILES',
    '.TP', '/etc/sgw/sgwd.env', 'settings read by the sgwd service.',
    '.TP', '/var/lib/sgw', 'the catalog, the embedded local object store and the state lock.',
    '.TP', '/run/sgw/sgw.sock', 'the control socket, mode 0660, group sgw.',
    '.SH SEE ALSO',
    '.BR sgw (1),',
    '.BR systemctl (1),',
    '.BR journalctl (1)',
    '',
  ].join('\n');
}

mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'sgw.bash-completion'), bashCompletion());
writeFileSync(path.join(outDir, 'sgw.1'), sgwPage());
writeFileSync(path.join(outDir, 'sgwd.8'), sgwdPage());
