{{/*
Probe of a simulator, which serves no HTTP: healthy while it holds an established TCP
connection to its broker's port (read from the pod's /proc/net/tcp{,6}; the port in hex,
state 01 = ESTABLISHED). A publisher that lost its broker for a minute is restarted.
(dict "port" 1883)
*/}}
{{- define "tier0.simulators.brokerConnectionProbe" -}}
exec:
  command:
    - /bin/sh
    - -c
    - {{ printf "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':%04X 01 '" (int .port) | quote }}
{{- end -}}
