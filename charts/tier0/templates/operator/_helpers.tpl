{{/* Cluster-scoped names must not collide between releases in different namespaces. */}}
{{- define "tier0.operator.clusterRoleName" -}}
{{- printf "%s-%s-operator" (include "tier0.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}
