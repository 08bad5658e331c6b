{{/*
A `helm test` pod running a Python check with the tier0 image's interpreter (no kubectl, no
extra image): (dict "context" $ "name" "api-health" "script" "..." "serviceAccount" false).
*/}}
{{- define "tier0.tests.pod" -}}
{{- $ctx := .context -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ printf "%s-%s" (include "tier0.component.fullname" (dict "context" $ctx "component" "test")) .name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "tier0.labels.standard" (dict "context" $ctx "component" "tests") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  {{- include "tier0.images.pullSecrets" (dict "context" $ctx "indent" 2) }}
  restartPolicy: Never
  {{- if .serviceAccount }}
  serviceAccountName: {{ include "tier0.component.fullname" (dict "context" $ctx "component" "tests") }}
  automountServiceAccountToken: true
  {{- else }}
  automountServiceAccountToken: false
  {{- end }}
  enableServiceLinks: false
  {{- include "tier0.pod.securityContext" (dict "context" $ctx "values" dict) | nindent 2 }}
  containers:
    - name: check
      image: {{ include "tier0.images.image" (dict "context" $ctx) }}
      imagePullPolicy: {{ include "tier0.images.pullPolicy" (dict "context" $ctx) }}
      command: ["python", "-c"]
      args:
        - |
          {{- .script | trim | nindent 10 }}
      env:
        - {name: HOME, value: /tmp}
        - {name: API_URL, value: {{ printf "http://%s:%d" (include "tier0.component.fullname" (dict "context" $ctx "component" "api")) (int $ctx.Values.api.port) | quote }}}
        - {name: NAMESPACE, value: {{ $ctx.Release.Namespace | quote }}}
        - {name: REGION_NAME, value: {{ include "tier0.fullname" $ctx | quote }}}
        - {name: QUESTION, value: {{ $ctx.Values.tests.question | quote }}}
      {{- include "tier0.container.securityContext" (dict "context" $ctx "values" dict) | nindent 6 }}
      resources:
        requests: {cpu: 10m, memory: 64Mi}
        limits: {cpu: 500m, memory: 256Mi}
      volumeMounts:
        - {name: tmp, mountPath: /tmp}
  volumes:
    {{- include "tier0.app.tmpVolume" $ctx | nindent 4 }}
{{- end -}}
