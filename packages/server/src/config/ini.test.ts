import { describe, expect, it } from '@jest/globals';
import { IniSyntaxError, parseIni } from './ini.js';

const section = (text: string, name: string) => Object.fromEntries(parseIni(text).get(name) ?? []);

describe('parseIni', () => {
  it('reads sections and key = value pairs, trimming and lower-casing keys', () => {
    expect(section('[app]\nSocket_Address = unix:///var/run/.plugin.sock\nsocket_port=0\n', 'app')).toEqual({
      socket_address: 'unix:///var/run/.plugin.sock',
      socket_port: '0',
    });
  });

  it('accepts key: value as configparser does', () => {
    expect(section('[log]\nlevel: DEBUG\n', 'log')).toEqual({ level: 'DEBUG' });
  });

  it('keeps # and ; inside values (only whole-line comments exist)', () => {
    const text = '[offloading]\n# a comment\n  ; another\nnode_selector={"color": "#ff0000; red"}\n';
    expect(section(text, 'offloading')).toEqual({ node_selector: '{"color": "#ff0000; red"}' });
  });

  it('joins indented continuation lines with newlines', () => {
    const text = '[k8s]\nkubeconfig={\n    "apiVersion": "v1",\n\n    "kind": "Config"}\nfield_manager=x\n';
    expect(section(text, 'k8s')).toEqual({
      kubeconfig: '{\n"apiVersion": "v1",\n\n"kind": "Config"}',
      field_manager: 'x',
    });
  });

  it('keeps an empty value empty', () => {
    expect(section('[tcp_tunnel]\ngateway_host=\n', 'tcp_tunnel')).toEqual({ gateway_host: '' });
  });

  it('lets [DEFAULT] keys show in every section unless overridden', () => {
    const text = '[DEFAULT]\nlevel=info\n[log]\n[app]\nlevel=debug\n';
    expect(section(text, 'log')).toEqual({ level: 'info' });
    expect(section(text, 'app')).toEqual({ level: 'debug' });
    expect(parseIni(text).has('DEFAULT')).toBe(false);
  });

  it('interpolates %% and %(key)s', () => {
    const text = '[offloading]\nbase=team\nnamespace_prefix=%(base)s-x\nnote=100%%\n';
    expect(section(text, 'offloading')).toMatchObject({ namespace_prefix: 'team-x', note: '100%' });
  });

  it('strips a byte-order mark and reads CRLF files', () => {
    expect(section('\uFEFF[app]\r\nsocket_port=4000\r\n', 'app')).toEqual({ socket_port: '4000' });
  });

  it.each([
    ['a key before any section', 'level=info\n', 1],
    ['a line without =', '[log]\nlevel\n', 2],
    ['a duplicate key', '[log]\nlevel=a\nLEVEL=b\n', 3],
    ['a duplicate section', '[log]\n[app]\n[log]\n', 3],
    ['a lone %', '[log]\nlevel=50%\n', 2],
    ['an unknown %(key)s', '[log]\nlevel=%(nope)s\n', 2],
  ])('rejects %s with its line number', (_name, text, line) => {
    let caught: unknown;
    try {
      parseIni(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(IniSyntaxError);
    expect((caught as IniSyntaxError).line).toBe(line);
  });
});
