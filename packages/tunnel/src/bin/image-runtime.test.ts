import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { IMAGE_NODE_FLAGS, IMAGE_RUNTIME_ENV } from './image-runtime.js';

const dockerfile = readFileSync(new URL('../../../../docker/tunnel.Dockerfile', import.meta.url), 'utf8');

/** The runtime stage's instructions, continuation lines joined, comments dropped. */
function runtimeInstructions(): string[] {
  const stages = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((line) => !line.trimStart().startsWith('#'));
  const lastFrom = stages.map((line) => line.startsWith('FROM ')).lastIndexOf(true);
  return stages.slice(lastFrom);
}

describe('the benchmark runs the tunnel processes as the image and the chart do', () => {
  it('with the ENTRYPOINT\'s node flags', () => {
    const entrypoint = runtimeInstructions().find((line) => line.startsWith('ENTRYPOINT '));
    expect(JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? 'null')).toEqual(['node', ...IMAGE_NODE_FLAGS]);
  });

  it('and the gateway chart runs it with the same flags', () => {
    const values = readFileSync(new URL('../../../../charts/tcp-tunnel-gateway/values.yaml', import.meta.url), 'utf8');
    const command = /^command:\n((?: {2}- .*\n)+)/m.exec(values)?.[1] ?? '';
    expect(command.trimEnd().split('\n').map((line) => line.replace(/^ {2}- /, ''))).toEqual(['node', ...IMAGE_NODE_FLAGS, 'dist/bin/gateway.js']);
  });

  it('with the runtime variables of its ENV', () => {
    const env = new Map(
      runtimeInstructions()
        .filter((line) => line.startsWith('ENV '))
        .flatMap((line) => line.slice('ENV '.length).trim().split(/\s+/))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
    );
    for (const [name, value] of Object.entries(IMAGE_RUNTIME_ENV)) expect({ name, value: env.get(name) }).toEqual({ name, value });
  });
});
