{{/* Where the dashboard proxies /api/*: the API Service, by its in-namespace name. */}}
{{- define "tier0.dashboard.apiUrl" -}}
{{- printf "http://%s:%d" (include "tier0.component.fullname" (dict "context" . "component" "api")) (int .Values.api.port) -}}
{{- end -}}
