{{/* The chart's name, or nameOverride. */}}
{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name, followed by the chart's name unless the
release name already holds it ("switchboard" gives switchboard-operator, as config/ does).
Kept to 40 characters so that the longest suffix still fits in 63.
*/}}
{{- define "switchboard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "switchboard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "switchboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (operator or serve): pass (list . "operator"). */}}
{{- define "switchboard.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "switchboard.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* The operator's ServiceAccount. */}}
{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-operator" (include "switchboard.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image of the switchboard binary. */}}
{{- define "switchboard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret and key holding the database URL. */}}
{{- define "switchboard.databaseSecretName" -}}
{{- if .Values.database.url }}
{{- printf "%s-database" (include "switchboard.fullname" .) }}
{{- else }}
{{- required "set database.url, or database.existingSecret to a Secret holding the PostgreSQL URL" .Values.database.existingSecret }}
{{- end }}
{{- end }}

{{- define "switchboard.databaseSecretKey" -}}
{{- if .Values.database.url }}url{{ else }}{{ required "database.existingSecretKey is required" .Values.database.existingSecretKey }}{{ end }}
{{- end }}

{{/* The environment that hands the database URL to the binary. */}}
{{- define "switchboard.databaseEnv" -}}
- name: SWITCHBOARD_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "switchboard.databaseSecretName" . }}
      key: {{ include "switchboard.databaseSecretKey" . }}
{{- end }}

{{/* Pod annotations that roll the pods when the chart's database Secret changes. */}}
{{- define "switchboard.databaseChecksum" -}}
{{- if .Values.database.url -}}
checksum/database: {{ .Values.database.url | sha256sum }}
{{- end }}
{{- end }}
