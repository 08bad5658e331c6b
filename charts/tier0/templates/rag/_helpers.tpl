{{/* COHERE_API_KEY from rag.cohere.existingSecret, when one is named (Cohere is then used). */}}
{{- define "tier0.rag.cohereEnv" -}}
{{- with .Values.rag.cohere.existingSecret }}
- name: COHERE_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.rag.cohere.existingSecretKey }}
{{- end }}
{{- end -}}
