{{/*
Helpers shared by every component. Names are `tier0.<component>.<thing>`; every object name is
cut to 63 characters (the DNS label limit Services and label values share).
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "tier0.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of every object name. A release named after the chart ("tier0") is not repeated, so
`helm install tier0 charts/tier0` gives tier0-postgres-region1, as the CRD's defaults expect.
*/}}
{{- define "tier0.fullname" -}}
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

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "tier0.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of one component's objects: (dict "context" $ "component" "api"). */}}
{{- define "tier0.component.fullname" -}}
{{- printf "%s-%s" (include "tier0.fullname" .context) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels that select a component's pods: (dict "context" $ "component" "postgres" ["region" "region1"]).
They go into immutable selectors, so they never carry the chart or app version. The
tier0.io/role label is deliberately absent: the operator owns it (a `helm upgrade` must not
undo a failover).
*/}}
{{- define "tier0.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "tier0.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .region }}
tier0.io/region: {{ . }}
{{- end }}
{{- end -}}

{{/* Every object's labels: the selector labels plus part-of, version, chart and managed-by. */}}
{{- define "tier0.labels.standard" -}}
{{ include "tier0.labels.matchLabels" . }}
app.kubernetes.io/part-of: tier0
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
helm.sh/chart: {{ include "tier0.chart" .context }}
{{- with .context.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
metadata.annotations of every object when commonAnnotations is set, already indented for
metadata; use as `  {{- include "tier0.annotations.common" $ }}` (renders nothing otherwise).
*/}}
{{- define "tier0.annotations.common" -}}
{{- with .Values.commonAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
A component's image reference: (dict "context" $ "image" .Values.postgres.image). An empty
repository falls back to the tier0 image, which carries every store.
*/}}
{{- define "tier0.images.image" -}}
{{- $global := .context.Values.image -}}
{{- $own := .image | default dict -}}
{{- if $own.repository -}}
{{- printf "%s:%s" $own.repository (toString (default "latest" $own.tag)) -}}
{{- else if $global.digest -}}
{{- printf "%s@%s" $global.repository $global.digest -}}
{{- else -}}
{{- printf "%s:%s" $global.repository (toString (default .context.Chart.AppVersion $global.tag)) -}}
{{- end -}}
{{- end -}}

{{/* A component's pull policy: its own, else the tier0 image's. */}}
{{- define "tier0.images.pullPolicy" -}}
{{- $own := .image | default dict -}}
{{- default .context.Values.image.pullPolicy $own.pullPolicy -}}
{{- end -}}

{{/* imagePullSecrets of a pod spec, indented by .indent (nothing without secrets). */}}
{{- define "tier0.images.pullSecrets" -}}
{{- $secrets := list -}}
{{- range .context.Values.imagePullSecrets -}}
{{- $secrets = append $secrets (dict "name" .) -}}
{{- end -}}
{{- if $secrets }}
{{ dict "imagePullSecrets" $secrets | toYaml | indent .indent }}
{{- end }}
{{- end -}}

{{/* Pod securityContext: the defaults with the component's own merged over them. */}}
{{- define "tier0.pod.securityContext" -}}
{{- $merged := mustMergeOverwrite (deepCopy .context.Values.podSecurityContext) (deepCopy (.values | default dict)) -}}
securityContext:
  {{- toYaml $merged | nindent 2 }}
{{- end -}}

{{/* Container securityContext: the defaults with the component's own merged over them. */}}
{{- define "tier0.container.securityContext" -}}
{{- $merged := mustMergeOverwrite (deepCopy .context.Values.containerSecurityContext) (deepCopy (.values | default dict)) -}}
securityContext:
  {{- toYaml $merged | nindent 2 }}
{{- end -}}

{{/* Prometheus scrape annotations for a pod serving metrics on .port (at .path, default /metrics). */}}
{{- define "tier0.pod.metricsAnnotations" -}}
{{- if .context.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: {{ .path | default "/metrics" }}
{{- end }}
{{- end -}}

{{/*
Preferred (or, with placement.required, required) affinity to nodes labelled with the region,
under any of placement.regionLabelKeys: (dict "context" $ "region" "region1").
*/}}
{{- define "tier0.affinity.region" -}}
{{- $placement := .context.Values.placement -}}
affinity:
  nodeAffinity:
  {{- if $placement.required }}
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      {{- range $placement.regionLabelKeys }}
        - matchExpressions:
            - {key: {{ . | quote }}, operator: In, values: [{{ $.region | quote }}]}
      {{- end }}
  {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
    {{- range $placement.regionLabelKeys }}
      - weight: {{ $placement.weight }}
        preference:
          matchExpressions:
            - {key: {{ . | quote }}, operator: In, values: [{{ $.region | quote }}]}
    {{- end }}
  {{- end }}
{{- end -}}

{{/*
nodeSelector and tolerations of a component, indented by .indent (nothing when unset):
(dict "values" .Values.api "indent" 6).
*/}}
{{- define "tier0.pod.scheduling" -}}
{{- $out := dict -}}
{{- with .values.nodeSelector }}{{ $_ := set $out "nodeSelector" . }}{{ end -}}
{{- with .values.tolerations }}{{ $_ := set $out "tolerations" . }}{{ end -}}
{{- if $out }}
{{ toYaml $out | indent .indent }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- secrets */}}

{{/* Name of the Secret holding every credential (the generated one or auth.existingSecret). */}}
{{- define "tier0.secrets.name" -}}
{{- default (printf "%s-credentials" (include "tier0.fullname" .)) .Values.auth.existingSecret | trunc 253 -}}
{{- end -}}

{{/*
One credential, base64-encoded: the value already in the release's Secret (so `helm upgrade`
never changes a password a store was initialised with), else the one given in values, else a
new random one. (dict "context" $ "key" "app-password" "value" .Values.auth.appPassword)
*/}}
{{- define "tier0.secrets.value" -}}
{{- $existing := lookup "v1" "Secret" .context.Release.Namespace (include "tier0.secrets.name" .context) -}}
{{- if and $existing (hasKey ($existing.data | default dict) .key) -}}
{{- index $existing.data .key -}}
{{- else if .value -}}
{{- .value | b64enc -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* An env entry read from the credentials Secret: (dict "context" $ "name" "X" "key" "k"). */}}
{{- define "tier0.secrets.envFrom" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "tier0.secrets.name" .context }}
      key: {{ .key }}
{{- end -}}

{{/* ---------------------------------------------------------------- store addresses */}}

{{/* A region's PostgreSQL StatefulSet and Service name: (dict "context" $ "region" "region1"). */}}
{{- define "tier0.postgres.fullname" -}}
{{- printf "%s-postgres-%s" (include "tier0.fullname" .context) .region | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ServiceAccount of the PostgreSQL pods' instance managers. */}}
{{- define "tier0.postgres.serviceAccountName" -}}
{{- printf "%s-postgres" (include "tier0.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service governing a region's PostgreSQL pod names. */}}
{{- define "tier0.postgres.headlessName" -}}
{{- printf "%s-hl" (include "tier0.postgres.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the Service that follows the primary. The operator creates and owns it (never this
chart): the Tier0Region names it, clients dial it.
*/}}
{{- define "tier0.postgres.rwServiceName" -}}
{{- printf "%s-postgres-rw" (include "tier0.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Every region's PostgreSQL as host:port, for a DSN with target_session_attrs=read-write: used by
the migrations Job, which runs before the operator may have created the -rw Service.
*/}}
{{- define "tier0.postgres.multiHost" -}}
{{- $hosts := list -}}
{{- range .Values.regions -}}
{{- $hosts = append $hosts (printf "%s:5432" (include "tier0.postgres.fullname" (dict "context" $ "region" .))) -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/* A region's Redis StatefulSet and Service name: (dict "context" $ "region" "region1"). */}}
{{- define "tier0.redis.fullname" -}}
{{- printf "%s-redis-%s" (include "tier0.fullname" .context) .region | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service governing a region's Redis pod names. */}}
{{- define "tier0.redis.headlessName" -}}
{{- printf "%s-hl" (include "tier0.redis.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The host a region's Redis announces and Sentinel monitors: its Service as <service>.<ns>.svc.
The operator compares Sentinel's answer with exactly this form (Endpoint.address in
tier0_operator.model), so both must agree.
*/}}
{{- define "tier0.redis.announceHost" -}}
{{- printf "%s.%s.svc" (include "tier0.redis.fullname" .) .context.Release.Namespace -}}
{{- end -}}

{{/* The Sentinel StatefulSet and its client Service. */}}
{{- define "tier0.sentinel.fullname" -}}
{{- include "tier0.component.fullname" (dict "context" . "component" "sentinel") -}}
{{- end -}}

{{/* The headless Service giving every Sentinel pod its own DNS name. */}}
{{- define "tier0.sentinel.headlessName" -}}
{{- printf "%s-hl" (include "tier0.sentinel.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Every Sentinel as <pod>.<headless>.<ns>.svc.<domain>:26379, in pod order (a YAML list). */}}
{{- define "tier0.sentinel.hosts" -}}
{{- $fullname := include "tier0.sentinel.fullname" . -}}
{{- $headless := include "tier0.sentinel.headlessName" . -}}
{{- range $i := until (int .Values.sentinel.replicaCount) }}
- {{ printf "%s-%d.%s.%s.svc.%s:26379" $fullname $i $headless $.Release.Namespace $.Values.clusterDomain }}
{{- end }}
{{- end -}}

{{/* The API's ServiceAccount: the failover endpoints read and patch the Tier0Region as it. */}}
{{- define "tier0.api.serviceAccountName" -}}
{{- include "tier0.component.fullname" (dict "context" . "component" "api") -}}
{{- end -}}

{{/* ---------------------------------------------------------------- application settings */}}

{{/*
TIER0_* settings of an application container, only for the stores it uses:
(dict "context" $ "uses" (list "postgres" "redis" "mqtt" "amqp" "mongo" "rag" "apiKey" "operateApiKey")).
Passwords come from the Secret into variables that the URLs expand with $(NAME).
*/}}
{{- define "tier0.app.env" -}}
{{- $ctx := .context -}}
{{- $v := $ctx.Values -}}
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/cache
{{- if has "postgres" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_PG_APP_PASSWORD" "key" "app-password") }}
- name: TIER0_POSTGRES_DSN
  value: {{ printf "postgresql://tier0:$(TIER0_PG_APP_PASSWORD)@%s:5432/%s" (include "tier0.postgres.rwServiceName" $ctx) $v.postgres.database | quote }}
{{- end }}
{{- if has "redis" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_REDIS_PASSWORD" "key" "redis-password") }}
- name: TIER0_REDIS_SENTINELS
  value: {{ include "tier0.sentinel.hosts" $ctx | fromYamlArray | join "," | quote }}
- name: TIER0_REDIS_MASTER_NAME
  value: {{ $v.sentinel.masterName | quote }}
{{- end }}
{{- if has "mqtt" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_MQTT_PASSWORD" "key" "mqtt-password") }}
- name: TIER0_MQTT_URL
  value: {{ printf "mqtt://tier0:$(TIER0_MQTT_PASSWORD)@%s:1883" (include "tier0.component.fullname" (dict "context" $ctx "component" "mosquitto")) | quote }}
{{- end }}
{{- if has "amqp" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_AMQP_PASSWORD" "key" "amqp-password") }}
- name: TIER0_AMQP_URL
  value: {{ printf "amqp://tier0:$(TIER0_AMQP_PASSWORD)@%s:5672/" (include "tier0.component.fullname" (dict "context" $ctx "component" "rabbitmq")) | quote }}
{{- end }}
{{- if has "mongo" .uses }}
- name: TIER0_MONGO_URL
  value: {{ printf "mongodb://%s:27017/" (include "tier0.component.fullname" (dict "context" $ctx "component" "ferretdb")) | quote }}
{{- end }}
{{- if has "rag" .uses }}
- name: TIER0_RAG_URL
  value: {{ printf "http://%s:%d" (include "tier0.component.fullname" (dict "context" $ctx "component" "rag")) (int $v.rag.port) | quote }}
{{- end }}
{{- if has "apiKey" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_API_KEY" "key" "api-key") }}
{{- end }}
{{- if has "operateApiKey" .uses }}
{{ include "tier0.secrets.envFrom" (dict "context" $ctx "name" "TIER0_OPERATE_API_KEY" "key" "operate-api-key") }}
{{- end }}
{{- end -}}

{{/* The writable /tmp every tier0 container gets (the root filesystem is read-only). */}}
{{- define "tier0.app.tmpVolume" -}}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* ---------------------------------------------------------------- network policies */}}

{{/*
A default-deny NetworkPolicy for one component with explicit allows. DNS is always allowed.
(dict "context" $ "component" "api"
      "ingress" (list (dict "port" 8000 "from" (list "any")) ...)    ; "any": every source
      "egress"  (list (dict "port" 5432 "to" (list "postgres")) ...)
      "apiServer" true)                                              ; egress to kube-apiserver
*/}}
{{- define "tier0.networkPolicy" -}}
{{- $ctx := .context -}}
{{- if $ctx.Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "tier0.component.fullname" (dict "context" $ctx "component" .component) }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "tier0.labels.standard" (dict "context" $ctx "component" .component) | nindent 4 }}
  {{- include "tier0.annotations.common" $ctx }}
spec:
  podSelector:
    matchLabels:
      {{- include "tier0.labels.matchLabels" (dict "context" $ctx "component" .component) | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
  {{- range .ingress }}
    - ports:
        - {port: {{ .port }}, protocol: TCP}
      {{- if not (has "any" .from) }}
      from:
      {{- range .from }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $ctx.Release.Name }}
              app.kubernetes.io/component: {{ . }}
      {{- end }}
      {{- end }}
  {{- end }}
  egress:
    # Cluster DNS (CoreDNS/kube-dns) wherever it runs.
    - ports:
        - {port: 53, protocol: UDP}
        - {port: 53, protocol: TCP}
  {{- range .egress }}
    - ports:
        - {port: {{ .port }}, protocol: TCP}
      to:
      {{- range .to }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $ctx.Release.Name }}
              app.kubernetes.io/component: {{ . }}
      {{- end }}
  {{- end }}
  {{- if .apiServer }}
    # kube-apiserver is not a pod a selector can name: allow its ports (to its CIDRs, if given).
    - ports:
      {{- range $ctx.Values.networkPolicy.kubeApiServerPorts }}
        - {port: {{ . }}, protocol: TCP}
      {{- end }}
      {{- with $ctx.Values.networkPolicy.kubeApiServerCidrs }}
      to:
      {{- range . }}
        - ipBlock: {cidr: {{ . | quote }}}
      {{- end }}
      {{- end }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- validation */}}

{{/*
Cross-field rules the schema cannot express; every broken rule is reported at once, before
anything is rendered. Called from templates/validate.yaml.
*/}}
{{- define "tier0.validateValues" -}}
{{- $messages := list -}}
{{- $v := .Values -}}
{{- if ne (len $v.regions) (len (uniq $v.regions)) -}}
{{- $messages = append $messages (printf "regions: region names must be distinct (got %s)" (join ", " $v.regions)) -}}
{{- end -}}
{{- if not (has $v.activeRegion $v.regions) -}}
{{- $messages = append $messages (printf "activeRegion: %q is not one of regions (%s)" $v.activeRegion (join ", " $v.regions)) -}}
{{- end -}}
{{- if gt (int $v.sentinel.quorum) (int $v.sentinel.replicaCount) -}}
{{- $messages = append $messages (printf "sentinel.quorum: %d is more than sentinel.replicaCount (%d); no failover could ever be agreed" (int $v.sentinel.quorum) (int $v.sentinel.replicaCount)) -}}
{{- end -}}
{{- if eq (int $v.operator.healthPort) (int $v.operator.metricsPort) -}}
{{- $messages = append $messages (printf "operator.healthPort: %d is also operator.metricsPort; the two servers need a port each" (int $v.operator.healthPort)) -}}
{{- end -}}
{{- if and $v.image.digest $v.image.tag -}}
{{- $messages = append $messages "image: set image.tag or image.digest, not both" -}}
{{- end -}}
{{- if and $v.auth.existingSecret (or $v.auth.superuserPassword $v.auth.replicationPassword $v.auth.appPassword $v.auth.redisPassword $v.auth.mqttPassword $v.auth.amqpPassword $v.auth.erlangCookie $v.auth.apiKey $v.auth.operateApiKey) -}}
{{- $messages = append $messages "auth: with auth.existingSecret the passwords come from that Secret; leave the other auth.* values empty" -}}
{{- end -}}
{{- if and $v.auth.apiKey (eq $v.auth.apiKey $v.auth.operateApiKey) -}}
{{- $messages = append $messages "auth.operateApiKey: must differ from auth.apiKey (one key per scope; the API refuses a shared one)" -}}
{{- end -}}
{{- if $messages -}}
{{- fail (printf "\n\nVALUES VALIDATION:\n  - %s\n" (join "\n  - " $messages)) -}}
{{- end -}}
{{- end -}}
