/**
 * A reader for the ini dialect of Python's `configparser` (with its default
 * settings), the format of the reference plugin's `config.ini`. The usual
 * JavaScript ini parsers differ where it matters for existing files: they cut
 * values at `#` or `;` (configparser only knows whole-line comments), and know
 * neither `key: value` nor values continued on indented lines.
 *
 * Supported: `[section]` headers, `key = value` and `key: value` (keys are
 * lower-cased), whole-line `#` / `;` comments, indented continuation lines
 * (joined with newlines), a `[DEFAULT]` section inherited by every section,
 * and the basic interpolation: `%%` is a literal `%`, `%(key)s` the value of
 * another key of the same section.
 */

/** A syntax error in an ini file, with the line it was found on. */
export class IniSyntaxError extends Error {
  /** 1-based line number. */
  readonly line: number;

  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'IniSyntaxError';
    this.line = line;
  }
}

/** A parsed ini file: section name → key → value (interpolated). */
export type IniDocument = ReadonlyMap<string, ReadonlyMap<string, string>>;

const DEFAULT_SECTION = 'DEFAULT';
const SECTION_HEADER = /^\[(.+)\]/;
const OPTION_LINE = /^(.*?)\s*([=:])\s*(.*)$/;
const MAX_INTERPOLATION_DEPTH = 10;

interface RawOption {
  lines: string[];
  line: number;
}

/**
 * Parses ini text the way `configparser.ConfigParser()` reads it.
 * @throws IniSyntaxError on a line that is neither a section, an option, a
 * comment nor a continuation, on duplicate sections or keys, and on a bad
 * `%` interpolation.
 */
export function parseIni(text: string): IniDocument {
  const sections = new Map<string, Map<string, RawOption>>();
  const defaults = new Map<string, RawOption>();
  let current: Map<string, RawOption> | undefined;
  let currentName = '';
  let option: RawOption | undefined;
  let indentLevel = 0;
  const seenSections = new Set<string>();

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const value = raw.trim();
    if (value.startsWith('#') || value.startsWith(';')) return;
    if (value === '') {
      // configparser keeps blank lines inside a multi-line value (trailing ones are trimmed at the end).
      option?.lines.push('');
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    if (option !== undefined && indent > indentLevel) {
      option.lines.push(value);
      return;
    }
    indentLevel = indent;
    const header = SECTION_HEADER.exec(value);
    if (header?.[1] !== undefined) {
      const name = header[1];
      if (seenSections.has(name)) throw new IniSyntaxError(`section [${name}] appears twice`, lineNo);
      seenSections.add(name);
      currentName = name;
      if (name === DEFAULT_SECTION) {
        current = defaults;
      } else {
        current = new Map();
        sections.set(name, current);
      }
      option = undefined;
      return;
    }
    if (current === undefined) throw new IniSyntaxError('a key before the first [section] header', lineNo);
    const match = OPTION_LINE.exec(value);
    const key = match?.[1]?.trimEnd().toLowerCase();
    if (match === null || key === undefined || key === '') {
      throw new IniSyntaxError(`expected "key = value", got ${JSON.stringify(value)}`, lineNo);
    }
    if (current.has(key)) throw new IniSyntaxError(`key "${key}" appears twice in [${currentName}]`, lineNo);
    option = { lines: [(match[3] ?? '').trim()], line: lineNo };
    current.set(key, option);
  });

  const join = (o: RawOption) => o.lines.join('\n').trimEnd();
  const result = new Map<string, ReadonlyMap<string, string>>();
  for (const [name, options] of sections) {
    const lookup = (key: string): RawOption | undefined => options.get(key) ?? defaults.get(key);
    const values = new Map<string, string>();
    for (const key of new Set([...defaults.keys(), ...options.keys()])) {
      const own = lookup(key);
      if (own === undefined) continue;
      values.set(key, interpolate(join(own), own.line, (ref) => {
        const target = lookup(ref);
        return target === undefined ? undefined : { value: join(target), line: target.line };
      }));
    }
    result.set(name, values);
  }
  return result;
}

function interpolate(
  value: string,
  line: number,
  lookup: (key: string) => { value: string; line: number } | undefined,
  depth = 0,
): string {
  if (depth > MAX_INTERPOLATION_DEPTH) throw new IniSyntaxError('interpolation nested too deeply', line);
  let out = '';
  let rest = value;
  for (;;) {
    const at = rest.indexOf('%');
    if (at < 0) return out + rest;
    out += rest.slice(0, at);
    rest = rest.slice(at);
    if (rest.startsWith('%%')) {
      out += '%';
      rest = rest.slice(2);
      continue;
    }
    const ref = /^%\(([^)]+)\)s/.exec(rest);
    if (ref?.[1] === undefined) {
      throw new IniSyntaxError(`'%' must be written '%%' or start '%(key)s' in ${JSON.stringify(value)}`, line);
    }
    const target = lookup(ref[1].toLowerCase());
    if (target === undefined) throw new IniSyntaxError(`%(${ref[1]})s names no key of the same section`, line);
    out += interpolate(target.value, target.line, lookup, depth + 1);
    rest = rest.slice(ref[0].length);
  }
}
