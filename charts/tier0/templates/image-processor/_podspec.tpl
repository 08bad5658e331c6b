{{/*
The image processor's pod: sample site images are drawn by an init container, then processed
into the MongoDB-wire store (metadata, safety fields, compliance score, an embedding).
*/}}
{{- define "tier0.imageProcessor.podTemplate" -}}
{{- $values := .Values.imageProcessor -}}
metadata:
  labels:
    {{- include "tier0.labels.standard" (dict "context" . "component" "image-processor") | nindent 4 }}
spec:
  {{- include "tier0.images.pullSecrets" (dict "context" . "indent" 2) }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  restartPolicy: OnFailure
  {{- include "tier0.pod.securityContext" (dict "context" . "values" $values.podSecurityContext) | nindent 2 }}
  {{- include "tier0.pod.scheduling" (dict "values" $values "indent" 2) }}
  initContainers:
    - name: samples
      image: {{ include "tier0.images.image" (dict "context" .) }}
      imagePullPolicy: {{ include "tier0.images.pullPolicy" (dict "context" .) }}
      args: ["images", "samples", "/var/lib/tier0/images", "--count", {{ $values.sampleImages | quote }}]
      env:
        - {name: HOME, value: /tmp}
      {{- include "tier0.container.securityContext" (dict "context" . "values" $values.containerSecurityContext) | nindent 6 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      volumeMounts:
        - {name: images, mountPath: /var/lib/tier0/images}
        - {name: tmp, mountPath: /tmp}
  containers:
    - name: image-processor
      image: {{ include "tier0.images.image" (dict "context" .) }}
      imagePullPolicy: {{ include "tier0.images.pullPolicy" (dict "context" .) }}
      args: ["images", "process", "/var/lib/tier0/images"]
      env:
        {{- include "tier0.app.env" (dict "context" . "uses" (list "mongo")) | nindent 8 }}
      {{- include "tier0.container.securityContext" (dict "context" . "values" $values.containerSecurityContext) | nindent 6 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      volumeMounts:
        - {name: images, mountPath: /var/lib/tier0/images}
        - {name: tmp, mountPath: /tmp}
  volumes:
    - name: images
      emptyDir: {}
    {{- include "tier0.app.tmpVolume" . | nindent 4 }}
{{- end -}}
