import { readFileSync } from 'node:fs';

/** The package version, read once from package.json beside dist/ (the same file npm and the .deb ship). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
