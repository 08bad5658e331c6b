{{/*
Every metrics endpoint of the release as a YAML list of {component, port, portName, path}: the
ports and paths the pods' prometheus.io annotations name (a chart test keeps them in step). The
chart's Prometheus scrapes exactly these and its NetworkPolicy reaches nothing else; the
PodMonitor (kube-prometheus-stack) scrapes them by port name.
*/}}
{{- define "tier0.prometheus.scrapeTargets" -}}
{{- $v := .Values -}}
- {component: api, port: {{ int $v.api.port }}, portName: http, path: /metrics}
- {component: rag, port: {{ int $v.rag.port }}, portName: http, path: /metrics}
- {component: operator, port: {{ int $v.operator.metricsPort }}, portName: metrics, path: /metrics}
- {component: postgres, port: {{ int $v.postgres.agentPort }}, portName: agent, path: /metrics}
{{- if $v.mqttConsumer.enabled }}
- {component: mqtt-consumer, port: {{ int $v.mqttConsumer.opsPort }}, portName: ops, path: /metrics}
{{- end }}
{{- if $v.rabbitmqConsumer.enabled }}
- {component: rabbitmq-consumer, port: {{ int $v.rabbitmqConsumer.opsPort }}, portName: ops, path: /metrics}
{{- end }}
- {component: ferretdb, port: 8088, portName: debug, path: /debug/metrics}
- {component: rabbitmq, port: 15692, portName: metrics, path: /metrics}
{{- end -}}

{{/*
The headless Service whose DNS A records are one component's pods, ready or not, for the
chart's Prometheus: (dict "context" $ "component" "api").
*/}}
{{- define "tier0.prometheus.discoveryServiceName" -}}
{{- printf "%s-metrics" (include "tier0.component.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Where the ConfigMaps are mounted: the configuration and the rule files, one directory each. */}}
{{- define "tier0.prometheus.configDir" -}}
/etc/tier0/prometheus/config
{{- end -}}
{{- define "tier0.prometheus.rulesDir" -}}
/etc/tier0/prometheus/rules
{{- end -}}
