import { describe, expect, it } from '@jest/globals';
import { formatLabels, parseLabels } from './ssh-user-name.js';

describe('parseLabels', () => {
  it.each([
    ['pod=web,namespace=shop', { pod: 'web', namespace: 'shop' }],
    ['pod=web%2C1,note=a%3Db%20c', { pod: 'web,1', note: 'a=b c' }],
    ['app.kubernetes.io/name=web', { 'app.kubernetes.io/name': 'web' }],
    ['empty=', { empty: '' }],
    ['bastion', {}],
    ['pod=web,pod=api', {}],
    ['pod=web,bad key=x', {}],
    ['pod=web,novalue', {}],
    ['pod=%E0%A4%A', {}],
  ])('%s', (username, expected) => {
    expect(parseLabels(username)).toEqual(expected);
  });
});

describe('formatLabels', () => {
  it('round-trips through parseLabels and stays an OpenSSH-acceptable user name', () => {
    const labels = { pod: 'web-7d9f', namespace: 'shop', uid: '1b4e;&x,y=z' };
    const username = formatLabels(labels);

    expect(username).not.toMatch(/['`";&<>|(){}]/);
    expect(parseLabels(username)).toEqual(labels);
  });

  it('refuses a key parseLabels would not read', () => {
    expect(() => formatLabels({ 'bad key': 'x' })).toThrow(RangeError);
  });
});
