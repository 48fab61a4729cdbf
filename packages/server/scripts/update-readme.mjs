// Regenerates the README's configuration table from the server's key table,
// so the documentation cannot drift from what the server reads.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceConfigTable } from '../dist/index.js';

const path = new URL('../../../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceConfigTable(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md is up to date' : 'README.md configuration table updated');
