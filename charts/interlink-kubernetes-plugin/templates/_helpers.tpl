{{/* Chart name, cut to 63 characters (a DNS label). */}}
{{- define "ikp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name unless the release name contains it. */}}
{{- define "ikp.fullname" -}}
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

{{- define "ikp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ikp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ikp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ikp.labels" -}}
helm.sh/chart: {{ include "ikp.chart" . }}
{{ include "ikp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: plugin
app.kubernetes.io/part-of: interlink
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ikp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ikp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ikp.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the files live in the container. */}}
{{- define "ikp.configDir" -}}/etc/interlink-k8s/config{{- end }}
{{- define "ikp.configFile" -}}{{ include "ikp.configDir" . }}/config.ini{{- end }}
{{- define "ikp.kubeconfigDir" -}}/etc/interlink-k8s/remote{{- end }}
{{- define "ikp.kubeconfigFile" -}}{{ include "ikp.kubeconfigDir" . }}/kubeconfig{{- end }}
{{- define "ikp.socketDir" -}}{{ dir .Values.listen.socketPath }}{{- end }}

{{- define "ikp.kubeconfigSecretName" -}}
{{- default (printf "%s-remote-kubeconfig" (include "ikp.fullname" .)) .Values.remoteKubeconfig.existingSecret }}
{{- end }}

{{- define "ikp.sshKeySecretName" -}}
{{- default (printf "%s-tcp-tunnel" (include "ikp.fullname" .)) .Values.tcpTunnel.sshPrivateKey.existingSecret }}
{{- end }}

{{- define "ikp.sshKeyEnabled" -}}
{{- if or .Values.tcpTunnel.sshPrivateKey.existingSecret .Values.tcpTunnel.sshPrivateKey.value }}true{{ end }}
{{- end }}

{{- define "ikp.podKeySecretName" -}}
{{- default (printf "%s-pod-key" (include "ikp.fullname" .)) .Values.tcpTunnel.podKeySecret.existingSecret }}
{{- end }}

{{- define "ikp.podKeyEnabled" -}}
{{- if or .Values.tcpTunnel.podKeySecret.existingSecret .Values.tcpTunnel.podKeySecret.value }}true{{ end }}
{{- end }}

{{/*
Whether the plugin reads the local cluster with its own ServiceAccount:
`localAccess.enabled`, unless `config.local.kubeconfig_path` names a
kubeconfig of its own. Then the chart binds the ClusterRole, mounts the
token and sets `local.in_cluster`.
*/}}
{{- define "ikp.localInCluster" -}}
{{- if and .Values.localAccess.enabled (not (dig "local" "kubeconfig_path" "" .Values.config)) }}true{{ end }}
{{- end }}

{{/* Name of the cluster-scoped ClusterRole and binding: releases of the same name in two namespaces must not meet. */}}
{{- define "ikp.localRbacName" -}}
{{- printf "%s-%s-local-pods" .Release.Namespace (include "ikp.fullname" .) }}
{{- end }}

{{/* Whether `config.tcp_tunnel.enabled` is true (default false). */}}
{{- define "ikp.tunnelEnabled" -}}
{{- $v := dig "tcp_tunnel" "enabled" false .Values.config }}
{{- if eq (toString $v) "true" }}true{{ end }}
{{- end }}

{{/* Whether the plugin serves /metrics (`app.metrics_enabled`, default true). */}}
{{- define "ikp.metricsEnabled" -}}
{{- $v := dig "app" "metrics_enabled" true .Values.config }}
{{- if eq (toString $v) "true" }}true{{ end }}
{{- end }}

{{/*
Refuses values the chart sets itself or that do not belong in a ConfigMap,
and combinations that cannot work, with a message naming what to set instead.
*/}}
{{- define "ikp.validate" -}}
{{- $app := .Values.config.app | default dict }}
{{- range $key := list "socket_address" "socket_port" }}
{{- if hasKey $app $key }}
{{- fail (printf "config.app.%s is set by the chart from listen.mode, listen.port and listen.socketPath: set those instead" $key) }}
{{- end }}
{{- end }}
{{- if hasKey (.Values.config.local | default dict) "in_cluster" }}
{{- fail "config.local.in_cluster is set by the chart from localAccess.enabled (with the RBAC and the token it needs): set that instead" }}
{{- end }}
{{- if hasKey (.Values.config.k8s | default dict) "kubeconfig" }}
{{- fail "config.k8s.kubeconfig would put credentials in a ConfigMap: use remoteKubeconfig.value or remoteKubeconfig.existingSecret (a Secret), or extraEnv K8S_KUBECONFIG with valueFrom.secretKeyRef" }}
{{- end }}
{{- if hasKey (.Values.config.tcp_tunnel | default dict) "gateway_ssh_private_key" }}
{{- fail "config.tcp_tunnel.gateway_ssh_private_key would put a private key in a ConfigMap: use tcpTunnel.sshPrivateKey.value or tcpTunnel.sshPrivateKey.existingSecret" }}
{{- end }}
{{- if hasKey (.Values.config.tcp_tunnel | default dict) "pod_key_secret" }}
{{- fail "config.tcp_tunnel.pod_key_secret would put a secret in a ConfigMap: use tcpTunnel.podKeySecret.existingSecret (the Secret the tcp-tunnel-gateway chart's podKeySecret names) or tcpTunnel.podKeySecret.value" }}
{{- end }}
{{- $hostKeys := dig "tcp_tunnel" "gateway_host_public_key" "" .Values.config | toString }}
{{- if or (contains "PRIVATE KEY" $hostKeys) (contains "PRIVATE KEY" (b64dec $hostKeys)) }}
{{- fail "config.tcp_tunnel.gateway_host_public_key holds a private key, which would land in a ConfigMap: give the gateway's public host key (its host.pub, ssh-ed25519 AAAA...)" }}
{{- end }}
{{- if and .Values.remoteKubeconfig.existingSecret .Values.remoteKubeconfig.value }}
{{- fail "remoteKubeconfig: set existingSecret or value, not both" }}
{{- end }}
{{- if and .Values.tcpTunnel.sshPrivateKey.existingSecret .Values.tcpTunnel.sshPrivateKey.value }}
{{- fail "tcpTunnel.sshPrivateKey: set existingSecret or value, not both" }}
{{- end }}
{{- if and .Values.tcpTunnel.podKeySecret.existingSecret .Values.tcpTunnel.podKeySecret.value }}
{{- fail "tcpTunnel.podKeySecret: set existingSecret or value, not both" }}
{{- end }}
{{- if and (eq .Values.listen.mode "unix") .Values.metrics.serviceMonitor.enabled }}
{{- fail "metrics.serviceMonitor.enabled needs listen.mode tcp: Prometheus cannot scrape a unix socket" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not (include "ikp.metricsEnabled" .)) }}
{{- fail "metrics.serviceMonitor.enabled needs config.app.metrics_enabled true: there would be no /metrics to scrape" }}
{{- end }}
{{- $shutdown := dig "app" "shutdown_timeout_seconds" 25 .Values.config | int }}
{{- if ge $shutdown (int .Values.terminationGracePeriodSeconds) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed config.app.shutdown_timeout_seconds (%d): the kubelet would kill the plugin while it drains requests" (int .Values.terminationGracePeriodSeconds) $shutdown) }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set maxUnavailable or minAvailable, not both" }}
{{- end }}
{{- end }}

{{/*
One value of config.ini, written so that the plugin's configparser-compatible
reader gives back exactly the value: objects and lists as JSON, whole numbers
without an exponent, `%` doubled (configparser interpolation), and lines after
the first indented (continuation lines).
*/}}
{{- define "ikp.iniValue" -}}
{{- $v := . }}
{{- $text := "" }}
{{- if or (kindIs "map" $v) (kindIs "slice" $v) }}
{{- $text = toJson $v }}
{{- else if and (kindIs "float64" $v) (eq (floor $v) $v) }}
{{- $text = printf "%d" (int64 $v) }}
{{- else }}
{{- $text = toString $v }}
{{- end }}
{{- $text | replace "%" "%%" | replace "\n" "\n    " }}
{{- end }}

{{/* config.ini: the chart's own keys, then `config` (which wins), by section. */}}
{{- define "ikp.configIni" -}}
{{- $computed := dict "app" dict "k8s" dict "local" dict }}
{{- if eq .Values.listen.mode "unix" }}
{{- $_ := set $computed.app "socket_address" (printf "unix://%s" .Values.listen.socketPath) }}
{{- else }}
{{- $_ := set $computed.app "socket_address" "http://0.0.0.0" }}
{{- $_ := set $computed.app "socket_port" .Values.listen.port }}
{{- end }}
{{- if .Values.remoteKubeconfig.enabled }}
{{- $_ := set $computed.k8s "kubeconfig_path" (include "ikp.kubeconfigFile" .) }}
{{- end }}
{{- if include "ikp.localInCluster" . }}
{{- $_ := set $computed.local "in_cluster" true }}
{{- end }}
{{- $merged := mergeOverwrite $computed (deepCopy .Values.config) }}
{{- $sections := list }}
{{- range $section := list "app" "log" "k8s" "local" "offloading" "tcp_tunnel" "mesh" }}
{{- $lines := list (printf "[%s]" $section) }}
{{- range $key, $value := get $merged $section | default dict }}
{{- if not (kindIs "invalid" $value) }}
{{- $lines = append $lines (printf "%s = %s" $key (include "ikp.iniValue" $value)) }}
{{- end }}
{{- end }}
{{- if gt (len $lines) 1 }}
{{- $sections = append $sections (join "\n" $lines) }}
{{- end }}
{{- end }}
{{- join "\n\n" $sections }}
{{- end }}

{{/*
An exec probe for unix mode: kubelet httpGet probes cannot use a unix socket,
so node itself (it is in the image) asks the plugin. Costs a node start
(about 40 ms of CPU) per probe.
*/}}
{{- define "ikp.socketProbe" -}}
exec:
  command:
    - node
    - -e
    - >-
      const r = require('node:http').get({ socketPath: process.argv[1], path: process.argv[2], timeout: 2000 },
      (res) => process.exit(res.statusCode === 200 ? 0 : 1));
      r.on('timeout', () => r.destroy(new Error('timeout'))); r.on('error', () => process.exit(1));
    - {{ .root.Values.listen.socketPath | quote }}
    - {{ .path | quote }}
{{- end }}
