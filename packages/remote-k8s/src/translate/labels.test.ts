import { describe, expect, it } from '@jest/globals';
import {
  MANAGED_BY_LABEL,
  OFFLOADING_LABEL,
  PVC_RETENTION_POLICY_ANNOTATION,
  REMOTE_PVC_ANNOTATION,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  SOURCE_UID_ANNOTATION,
  isLabelValue,
  managedLabels,
  mergeMetadataMap,
  podObjectLabels,
  remotePvcClaims,
  sourceAnnotations,
} from './labels.js';

describe('label and annotation keys', () => {
  it.each([
    [OFFLOADING_LABEL, 'interlink.io'],
    [SOURCE_POD_UID_LABEL, 'interlink.io/source.pod_uid'],
    [SOURCE_UID_ANNOTATION, 'interlink.io/source.uid'],
    [SOURCE_NAME_ANNOTATION, 'interlink.io/source.name'],
    [SOURCE_NAMESPACE_ANNOTATION, 'interlink.io/source.namespace'],
    [REMOTE_PVC_ANNOTATION, 'interlink.io/remote-pvc'],
    [PVC_RETENTION_POLICY_ANNOTATION, 'interlink.io/pvc-retention-policy'],
    [MANAGED_BY_LABEL, 'app.kubernetes.io/managed-by'],
  ])('%s is the key the reference plugin uses (objects it created stay recognisable)', (key, expected) => {
    expect(key).toBe(expected);
  });
});

describe('podObjectLabels', () => {
  it('marks an object as offloaded, managed by this plugin, and belonging to the local pod', () => {
    expect(podObjectLabels('uid-1')).toEqual({
      'interlink.io': 'offloading',
      'app.kubernetes.io/managed-by': 'interlink-k8s',
      'interlink.io/source.pod_uid': 'uid-1',
    });
  });

  it('has only valid label values for a Kubernetes UID', () => {
    const labels = podObjectLabels('8d3b1c2e-5f6a-4b7c-8d9e-0a1b2c3d4e5f');
    expect(Object.values(labels).every(isLabelValue)).toBe(true);
  });

  it('leaves the pod UID out of the labels of objects shared by pods', () => {
    expect(managedLabels()).not.toHaveProperty(SOURCE_POD_UID_LABEL);
  });
});

describe('sourceAnnotations', () => {
  it('names the local object', () => {
    expect(sourceAnnotations({ uid: 'u', name: 'web', namespace: 'team-a' })).toEqual({
      'interlink.io/source.uid': 'u',
      'interlink.io/source.name': 'web',
      'interlink.io/source.namespace': 'team-a',
    });
  });

  it('leaves out the UID of an object that has none (projected maps InterLink builds)', () => {
    expect(sourceAnnotations({ name: 'kube-api-access-x', namespace: 'team-a' })).not.toHaveProperty(SOURCE_UID_ANNOTATION);
  });
});

describe('mergeMetadataMap', () => {
  it('keeps the local labels and lets ours win, so a user label cannot hide a pod from the reconciler', () => {
    const merged = mergeMetadataMap({ app: 'web', [SOURCE_POD_UID_LABEL]: 'forged' }, podObjectLabels('real'));
    expect(merged).toMatchObject({ app: 'web', [SOURCE_POD_UID_LABEL]: 'real' });
  });
});

describe('remotePvcClaims', () => {
  it.each([
    [{ [REMOTE_PVC_ANNOTATION]: 'data,scratch' }, ['data', 'scratch']],
    [{ [REMOTE_PVC_ANNOTATION]: ' data , ,scratch ' }, ['data', 'scratch']],
    [{ other: 'x' }, []],
    [null, []],
  ])('reads %j as %j', (annotations, claims) => {
    expect([...remotePvcClaims(annotations)]).toEqual(claims);
  });
});
