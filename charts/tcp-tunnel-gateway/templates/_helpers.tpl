{{/* Chart name, cut to 63 characters (a DNS label). */}}
{{- define "ttg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name unless the release name contains it. */}}
{{- define "ttg.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ttg.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ttg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ttg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object; `component` is `gateway` except on the metrics Service. */}}
{{- define "ttg.labelsFor" -}}
helm.sh/chart: {{ include "ttg.chart" .root }}
{{ include "ttg.selectorLabels" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: interlink
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "ttg.labels" -}}
{{ include "ttg.labelsFor" (dict "root" . "component" "gateway") }}
{{- end }}

{{- define "ttg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ttg.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ttg.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Secrets and ConfigMaps: the user's, or the chart's own. */}}
{{- define "ttg.hostKeySecretName" -}}
{{- default (printf "%s-host-key" (include "ttg.fullname" .)) .Values.hostKey.existingSecret }}
{{- end }}
{{- define "ttg.podKeySecretName" -}}
{{- default (printf "%s-pod-key" (include "ttg.fullname" .)) .Values.podKeySecret.existingSecret }}
{{- end }}
{{- define "ttg.podKeyEnabled" -}}
{{- if or .Values.podKeySecret.existingSecret .Values.podKeySecret.value }}true{{ end }}
{{- end }}
{{- define "ttg.authorizedKeysName" -}}
{{- printf "%s-authorized-keys" (include "ttg.fullname" .) }}
{{- end }}

{{/* Where the keys are mounted in the container. */}}
{{- define "ttg.hostKeyDir" -}}/etc/tunnel/host{{- end }}
{{- define "ttg.podKeyDir" -}}/etc/tunnel/pod-key{{- end }}
{{- define "ttg.authorizedKeysDir" -}}/etc/tunnel/authorized-keys{{- end }}

{{/* The bounds of `gateway.portRange` (MIN-MAX; the schema checks the shape). */}}
{{- define "ttg.portMin" -}}{{ index (splitList "-" .Values.gateway.portRange) 0 | int }}{{- end }}
{{- define "ttg.portMax" -}}{{ index (splitList "-" .Values.gateway.portRange) 1 | int }}{{- end }}

{{/*
Refuses values that cannot work, with a message naming what to set. The
chart never makes a host key: bastions pin it, and a key generated at render
time would change on every upgrade.
*/}}
{{- define "ttg.validate" -}}
{{- if and .Values.hostKey.existingSecret .Values.hostKey.privateKey }}
{{- fail "hostKey: set existingSecret or privateKey, not both" }}
{{- end }}
{{- if not (or .Values.hostKey.existingSecret .Values.hostKey.privateKey) }}
{{- fail "hostKey: set hostKey.existingSecret (a Secret holding the SSH host private key under hostKey.key) or hostKey.privateKey (--set-file hostKey.privateKey=host, after ssh-keygen -t ed25519 -N '' -f host). The chart never generates one: bastions pin its public half" }}
{{- end }}
{{- if and .Values.podKeySecret.existingSecret .Values.podKeySecret.value }}
{{- fail "podKeySecret: set existingSecret or value, not both" }}
{{- end }}
{{- if not (or (include "ttg.podKeyEnabled" .) .Values.authorizedKeys) }}
{{- fail "no bastion could log in: set podKeySecret.existingSecret or podKeySecret.value (the secret shared with the plugin's tcp_tunnel.pod_key_secret; openssl rand -base64 32), or list authorizedKeys, or both" }}
{{- end }}
{{- if eq .Values.service.type "NodePort" }}
{{- range $field := list "loadBalancerIP" "loadBalancerSourceRanges" "loadBalancerClass" }}
{{- if get $.Values.service $field }}
{{- fail (printf "service.%s needs service.type LoadBalancer" $field) }}
{{- end }}
{{- end }}
{{- end }}
{{- $min := include "ttg.portMin" . | int }}
{{- $max := include "ttg.portMax" . | int }}
{{- if or (lt $min 1) (gt $max 65535) (gt $min $max) }}
{{- fail (printf "gateway.portRange %q: expected MIN-MAX with 1 <= MIN <= MAX <= 65535" .Values.gateway.portRange) }}
{{- end }}
{{- range $name := list "listenPort" "httpPort" }}
{{- $port := get $.Values.gateway $name | int }}
{{- if and (ge $port $min) (le $port $max) }}
{{- fail (printf "gateway.%s (%d) lies in gateway.portRange (%s), where forwards listen" $name $port $.Values.gateway.portRange) }}
{{- end }}
{{- end }}
{{- if eq (int .Values.gateway.listenPort) (int .Values.gateway.httpPort) }}
{{- fail "gateway.listenPort and gateway.httpPort must differ" }}
{{- end }}
{{- end }}

{{/*
The gateway's environment: every variable the chart sets, from values (the
README maps each value to its variable). The Kubernetes API settings
(TUNNEL_GATEWAY_KUBE_*) keep their in-cluster defaults.
*/}}
{{- define "ttg.env" -}}
{{- $g := .Values.gateway -}}
- name: TUNNEL_GATEWAY_HOST_KEY
  value: {{ printf "%s/%s" (include "ttg.hostKeyDir" .) .Values.hostKey.key | quote }}
{{- if .Values.authorizedKeys }}
- name: TUNNEL_GATEWAY_AUTHORIZED_KEYS
  value: {{ printf "%s/authorized_keys" (include "ttg.authorizedKeysDir" .) | quote }}
{{- end }}
{{- if include "ttg.podKeyEnabled" . }}
- name: TUNNEL_GATEWAY_POD_KEY_SECRET
  value: {{ printf "%s/%s" (include "ttg.podKeyDir" .) .Values.podKeySecret.key | quote }}
{{- end }}
- name: TUNNEL_GATEWAY_LISTEN_HOST
  value: {{ $g.listenHost | quote }}
- name: TUNNEL_GATEWAY_LISTEN_PORT
  value: {{ $g.listenPort | int | quote }}
- name: TUNNEL_GATEWAY_FORWARD_HOST
  value: {{ $g.forwardHost | quote }}
- name: TUNNEL_GATEWAY_PORT_RANGE
  value: {{ $g.portRange | quote }}
- name: TUNNEL_GATEWAY_MAX_FORWARDS_PER_CONNECTION
  value: {{ $g.maxForwardsPerConnection | int | quote }}
- name: TUNNEL_GATEWAY_MAX_AUTH_ATTEMPTS
  value: {{ $g.maxAuthAttempts | int | quote }}
- name: TUNNEL_GATEWAY_LOGIN_GRACE_MS
  value: {{ $g.loginGraceMs | int | quote }}
- name: TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS
  value: {{ $g.keepaliveIntervalMs | int | quote }}
- name: TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX
  value: {{ $g.keepaliveCountMax | int | quote }}
- name: TUNNEL_GATEWAY_HTTP_HOST
  value: {{ $g.httpHost | quote }}
- name: TUNNEL_GATEWAY_HTTP_PORT
  value: {{ $g.httpPort | int | quote }}
{{- with $g.ciphers }}
- name: TUNNEL_CIPHERS
  value: {{ join "," . | quote }}
{{- end }}
- name: TUNNEL_LOG_LEVEL
  value: {{ $g.logLevel | quote }}
- name: TUNNEL_GATEWAY_PUBLISH_SERVICES
  value: {{ ternary "true" "false" $g.publishServices | quote }}
{{- if $g.publishServices }}
# The endpoint of every published Service: this pod.
- name: TUNNEL_GATEWAY_ADVERTISE_ADDRESS
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: TUNNEL_GATEWAY_SERVICE_GRACE_MS
  value: {{ $g.serviceGraceMs | int | quote }}
{{- with .Values.rbac.namespaces }}
- name: TUNNEL_GATEWAY_NAMESPACES
  value: {{ join "," . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The ClusterRole's or each Role's rules: what publishing a Service per offloaded pod takes, and nothing more. */}}
{{- define "ttg.rbacRules" -}}
# The offloaded pod a bastion speaks for: that it exists (same UID) and the
# names of its container ports, which the published Service reuses.
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
# One Service per offloaded pod with forwards, owned by the pod (garbage
# collected with it); listed at start-up to take over those of an earlier
# gateway, deleted after TUNNEL_GATEWAY_SERVICE_GRACE_MS without forwards.
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, create, patch, delete]
# Its endpoints: this pod's IP and the allocated forward ports (applied
# server-side, deleted with the Service; never read back).
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [create, patch, delete]
# A Warning event on an offloaded pod whose UDP/SCTP ports the tunnel cannot carry.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}
