import { randomUUID } from 'node:crypto';

/**
 * A create body shaped exactly as InterLink 0.6.2 sends it for a pod with a
 * ConfigMap mounted by two containers, a Secret, and the service-account
 * token volume (which InterLink sends as a projected-volume map).
 */
export function samplePodData(name = 'hello-offload', namespace = 'demo', uid: string = randomUUID()) {
  const configMap = {
    metadata: { name: 'greeting', namespace },
    data: { 'message.txt': 'hello from the local cluster\n' },
  };
  const secret = {
    metadata: { name: 'api-key', namespace },
    type: 'Opaque',
    data: { key: Buffer.from('s3cr3t').toString('base64') },
  };
  const token = {
    metadata: { name: 'kube-api-access-x7k2p', namespace },
    data: { token: 'eyJhbGciOi.local-token', 'ca.crt': '-----BEGIN CERTIFICATE-----\n', namespace },
  };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid,
      labels: { app: 'hello' },
      annotations: { 'example.org/owner': 'demo' },
    },
    spec: {
      nodeName: 'virtual-kubelet',
      serviceAccountName: 'default',
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          imagePullPolicy: 'IfNotPresent',
          // PID 1 gets no default signal handling: without the trap a
          // delete waits out the whole grace period (30 s) on a real kubelet.
          command: ['sh', '-c', 'trap "exit 0" TERM; cat /etc/greeting/message.txt; sleep 3600 & wait'],
          workingDir: '/tmp',
          env: [{ name: 'API_KEY', value: 's3cr3t' }],
          volumeMounts: [
            { name: 'greeting', mountPath: '/etc/greeting' },
            { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
          securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
        {
          name: 'sidecar',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
          volumeMounts: [
            { name: 'greeting', mountPath: '/etc/greeting' },
            { name: 'key', mountPath: '/etc/key' },
          ],
        },
      ],
      volumes: [
        { name: 'greeting', configMap: { name: 'greeting' } },
        { name: 'key', secret: { secretName: 'api-key' } },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
      tolerations: [
        { key: 'virtual-node.interlink/no-schedule', operator: 'Exists', effect: 'NoSchedule' },
      ],
    },
    status: { phase: 'Pending' },
  };
  return {
    pod,
    container: [
      { name: 'main', configMaps: [configMap], projectedvolumemaps: [token], secrets: null, emptyDirs: null },
      { name: 'sidecar', configMaps: [configMap], projectedvolumemaps: null, secrets: [secret], emptyDirs: null },
    ],
    jobConfig: {},
  };
}

/**
 * A local pod as InterLink's Virtual Kubelet sends it in status calls once
 * the plugin has answered its create: annotated `JobID: <PodJID>`.
 */
export function acknowledgedByVirtualKubelet<P extends { metadata: { annotations?: Record<string, string> | null } }>(
  pod: P,
  jid: string,
): P {
  return { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, JobID: jid } } };
}
