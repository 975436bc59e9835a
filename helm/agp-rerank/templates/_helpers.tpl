{{/* vim: set filetype=mustache: */}}

{{- define "agp-rerank.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agp-rerank.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agp-rerank.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "agp-rerank.labels" -}}
helm.sh/chart: {{ include "agp-rerank.chart" . }}
{{ include "agp-rerank.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agp-rerank
{{- end -}}

{{/* Labels every pod of the release carries (API and worker). */}}
{{- define "agp-rerank.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agp-rerank.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agp-rerank.apiSelectorLabels" -}}
{{ include "agp-rerank.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end -}}

{{- define "agp-rerank.workerSelectorLabels" -}}
{{ include "agp-rerank.selectorLabels" . }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "agp-rerank.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agp-rerank.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agp-rerank.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "agp-rerank.secretName" -}}
{{- default (printf "%s-secrets" (include "agp-rerank.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
  ConfigMap data line `  KEY: "value"` (two-space indent, leading newline), omitted when the value is null or an empty string.
  Non-strings go through toJson so large integers never render in exponent form (1e+06).
*/}}
{{- define "agp-rerank.envLine" -}}
{{- $v := .value -}}
{{- if not (kindIs "invalid" $v) -}}
{{- $s := ternary $v (toJson $v) (kindIs "string" $v) -}}
{{- if ne $s "" }}
  {{ .key }}: {{ $s | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
  Whether the API pods run the training worker in-process.
*/}}
{{- define "agp-rerank.workerInApi" -}}
{{- if and .Values.config.training.workerInApi (not .Values.worker.enabled) -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/*
  terminationGracePeriodSeconds derived from the drain time, so it always exceeds SHUTDOWN_GRACE_MS.
*/}}
{{- define "agp-rerank.terminationGracePeriodSeconds" -}}
{{- $graceMs := int64 .Values.config.http.shutdownGraceMs -}}
{{- $drain := div (add $graceMs 999) 1000 -}}
{{- add (int64 .Values.shutdown.preStopSleepSeconds) $drain (int64 .Values.shutdown.terminationGraceBufferSeconds) -}}
{{- end -}}

{{/*
  Redis connection env vars for one Redis ("redis" or "queueRedis").
  Args: dict "r" <values block> "urlVar" "REDIS_URL" "passwordVar" "REDIS_PASSWORD".
  Emits EnvVar list items only when the URL needs a Secret (password or whole-URL key);
  plain URLs live in the ConfigMap (see agp-rerank.redisPlainUrl).
*/}}
{{- define "agp-rerank.redisSecretEnv" -}}
{{- $r := .r -}}
{{- if and $r.existingSecret $r.existingSecretUrlKey }}
- name: {{ .urlVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretUrlKey }}
{{- else if $r.existingSecret }}
{{- $host := include "agp-rerank.redisHostPort" $r }}
{{- if not $host }}
{{- fail (printf "%s: existingSecret needs host (or url without credentials) to build %s" .valuesKey .urlVar) }}
{{- end }}
- name: {{ .passwordVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretPasswordKey }}
- name: {{ .urlVar }}
  value: {{ printf "%s://%s:$(%s)@%s" (include "agp-rerank.redisScheme" $r) ($r.username | default "") .passwordVar $host | quote }}
{{- end }}
{{- end -}}

{{/* host:port/db of a Redis block, from host/port/db or from a credential-free url. */}}
{{- define "agp-rerank.redisHostPort" -}}
{{- if .url -}}
{{- $u := urlParse .url -}}
{{- if $u.userinfo -}}
{{- fail "redis url must not contain credentials: put the password in existingSecret" -}}
{{- end -}}
{{- printf "%s%s" $u.host $u.path -}}
{{- else if .host -}}
{{- printf "%s:%s/%s" .host (toJson .port) (toJson .db) -}}
{{- end -}}
{{- end -}}

{{/* redis or rediss: the url's scheme when a url is given, else from tls. */}}
{{- define "agp-rerank.redisScheme" -}}
{{- if .url -}}
{{- (urlParse .url).scheme -}}
{{- else -}}
{{- ternary "rediss" "redis" .tls -}}
{{- end -}}
{{- end -}}

{{/* A credential-free URL for the ConfigMap, or "" when the URL comes from a Secret or is unset. */}}
{{- define "agp-rerank.redisPlainUrl" -}}
{{- if not .existingSecret -}}
{{- if .url -}}
{{- .url -}}
{{- else if .host -}}
{{- printf "%s://%s:%s/%s" (ternary "rediss" "redis" .tls) .host (toJson .port) (toJson .db) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* True when some Redis is configured for the queue (queueRedis or redis). */}}
{{- define "agp-rerank.hasQueueRedis" -}}
{{- $r := .Values.redis -}}
{{- $q := .Values.queueRedis -}}
{{- if or (and $q.enabled (or $q.url $q.host $q.existingSecretUrlKey)) $r.url $r.host $r.existingSecretUrlKey $r.clusterNodes -}}true{{- end -}}
{{- end -}}

{{/*
  Environment shared by the API and worker containers: the LLM key and secret-built Redis URLs.
  Pass (dict "ctx" $ "admin" true) to add ADMIN_TOKEN (API only: the worker serves no admin routes).
*/}}
{{- define "agp-rerank.commonEnv" -}}
{{- $ := .ctx -}}
{{- $s := $.Values.secrets -}}
{{- $secretName := include "agp-rerank.secretName" $ -}}
{{- $llmKey := ternary $s.llmApiKeyKey (ternary "LLM_API_KEY" "" (ne $s.llmApiKey "")) (ne $s.existingSecret "") -}}
{{- $adminKey := ternary $s.adminTokenKey (ternary "ADMIN_TOKEN" "" (ne $s.adminToken "")) (ne $s.existingSecret "") -}}
{{- if $llmKey }}
- name: LLM_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $llmKey }}
{{- end }}
{{- if and .admin $adminKey }}
- name: ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $adminKey }}
{{- end }}
{{- include "agp-rerank.redisSecretEnv" (dict "r" $.Values.redis "urlVar" "REDIS_URL" "passwordVar" "REDIS_PASSWORD" "valuesKey" "redis") }}
{{- if $.Values.queueRedis.enabled }}
{{- include "agp-rerank.redisSecretEnv" (dict "r" $.Values.queueRedis "urlVar" "QUEUE_REDIS_URL" "passwordVar" "QUEUE_REDIS_PASSWORD" "valuesKey" "queueRedis") }}
{{- end }}
{{- with $.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod annotations that roll the pods when configuration or secrets change. */}}
{{- define "agp-rerank.checksumAnnotations" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secrets.existingSecret }}
checksum/secret: {{ printf "%s|%s|%s" .Values.secrets.existingSecret .Values.secrets.llmApiKeyKey .Values.secrets.adminTokenKey | sha256sum }}
{{- else }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Volumes shared by API and worker pods. */}}
{{- define "agp-rerank.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmpVolume.medium }}
    medium: {{ . }}
    {{- end }}
    {{- with .Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "agp-rerank.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
  API keys (API pods only): API_KEYS / API_KEYS_FILE and API_KEYS_POLL_MS, and the keys-file Secret mounted
  as a directory (not subPath, so an edited Secret reaches the pod and applies on the next poll).
*/}}
{{- define "agp-rerank.apiKeysMountDir" -}}/etc/agp-rerank/api-keys{{- end -}}

{{- define "agp-rerank.apiKeysEnv" -}}
{{- $k := .Values.apiKeys -}}
{{- if eq $k.mode "file" }}
- name: API_KEYS_FILE
  value: {{ printf "%s/%s" (include "agp-rerank.apiKeysMountDir" .) $k.secretKey | quote }}
{{- else if eq $k.mode "redis" }}
- name: API_KEYS
  value: redis
{{- end }}
{{- if ne $k.mode "off" }}
- name: API_KEYS_POLL_MS
  value: {{ $k.pollMs | quote }}
{{- end }}
{{- end -}}

{{- define "agp-rerank.apiKeysVolume" -}}
{{- if eq .Values.apiKeys.mode "file" }}
- name: api-keys
  secret:
    secretName: {{ .Values.apiKeys.existingSecret }}
    items:
      - key: {{ .Values.apiKeys.secretKey }}
        path: {{ .Values.apiKeys.secretKey }}
{{- end }}
{{- end -}}

{{- define "agp-rerank.apiKeysVolumeMount" -}}
{{- if eq .Values.apiKeys.mode "file" }}
- name: api-keys
  mountPath: {{ include "agp-rerank.apiKeysMountDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
NODE_OPTIONS with the V8 heap ceiling (--max-old-space-size, MiB): heapMb, or three quarters of
resources.limits.memory when it is given in Mi, Gi, M or G. Nothing when neither is known (the image's
default applies) or when extraEnv sets NODE_OPTIONS itself.
*/}}
{{- define "agp-rerank.nodeOptionsEnv" -}}
{{- $mb := int .heapMb -}}
{{- if eq $mb 0 -}}
{{- $lim := toString (dig "limits" "memory" "" (default dict .resources)) -}}
{{- if regexMatch "^[0-9]+Mi$" $lim -}}{{- $mb = div (mul (int (trimSuffix "Mi" $lim)) 3) 4 -}}
{{- else if regexMatch "^[0-9]+Gi$" $lim -}}{{- $mb = div (mul (int (trimSuffix "Gi" $lim)) 3072) 4 -}}
{{- else if regexMatch "^[0-9]+M$" $lim -}}{{- $mb = div (mul (int (trimSuffix "M" $lim)) 3000000) 4194304 -}}
{{- else if regexMatch "^[0-9]+G$" $lim -}}{{- $mb = div (mul (int (trimSuffix "G" $lim)) 3000000000) 4194304 -}}
{{- end -}}
{{- end -}}
{{- $own := false -}}
{{- range .extraEnv }}{{- if eq .name "NODE_OPTIONS" }}{{- $own = true }}{{- end }}{{- end -}}
{{- if and (gt $mb 0) (not $own) }}
- name: NODE_OPTIONS
  value: "--max-old-space-size={{ $mb }}"
{{- end -}}
{{- end -}}
