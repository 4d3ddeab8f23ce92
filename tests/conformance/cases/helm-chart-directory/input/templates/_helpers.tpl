{{- define "demo.labels" -}}
app: demo
{{- end }}
