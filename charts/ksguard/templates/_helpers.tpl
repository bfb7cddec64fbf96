{{/* The chart's name, or nameOverride. */}}
{{- define "ksguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects (63 characters at most). */}}
{{- define "ksguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ksguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "ksguard.labels" -}}
helm.sh/chart: {{ include "ksguard.chart" . }}
{{ include "ksguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "ksguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ksguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ksguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ksguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the host's jwtSecret; fails unless exactly one source is set. */}}
{{- define "ksguard.hostSecretName" -}}
{{- $h := .Values.hostJwtSecret }}
{{- if and $h.existingSecret $h.value }}
{{- fail "hostJwtSecret: set existingSecret or value, not both (existingSecret names a Secret you manage; value makes the chart create one)" }}
{{- else if $h.existingSecret }}
{{- $h.existingSecret }}
{{- else if $h.value }}
{{- printf "%s-host-jwt" (include "ksguard.fullname" .) }}
{{- else }}
{{- fail "hostJwtSecret: set existingSecret (a Secret in the release namespace with key jwtSecret) or value (the host cluster's jwtSecret): ksguard cannot check drift without it" }}
{{- end }}
{{- end }}

{{/* The Secret holding the serving certificate (cert-manager's or ksguard's own). */}}
{{- define "ksguard.tlsSecretName" -}}
{{- printf "%s-tls" (include "ksguard.fullname" .) }}
{{- end }}

{{/* The Service's DNS names, which the serving certificate must cover. */}}
{{- define "ksguard.dnsNames" -}}
{{- $svc := printf "%s.%s.svc" (include "ksguard.fullname" .) .Release.Namespace -}}
- {{ $svc }}
- {{ $svc }}.cluster.local
{{- end }}

{{/* The Deployments the restart signal may patch: "namespace" and "names". */}}
{{- define "ksguard.restartTargets" -}}
{{- $t := .Values.restart.target }}
{{- if eq $t "auto" }}
namespace: {{ .Values.guarded.namespace }}
names: [ks-apiserver, ks-agent]
{{- else if eq $t "none" }}
names: []
{{- else }}
{{- $parts := splitList "/" $t }}
{{- if or (ne (len $parts) 2) (not (index $parts 0)) (not (index $parts 1)) }}
{{- fail (printf "restart.target must be auto, none or NAMESPACE/NAME, not %q" $t) }}
{{- end }}
namespace: {{ index $parts 0 }}
names: [{{ index $parts 1 }}]
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "ksguard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* What both webhooks share: the scope (one ConfigMap) and how they are called. */}}
{{- define "ksguard.webhookCommon" -}}
namespaceSelector:
  matchLabels:
    kubernetes.io/metadata.name: {{ .Values.guarded.namespace }}
matchConditions:
  - name: guarded-configmap
    expression: {{ printf "request.name == %q" .Values.guarded.name | squote }}
failurePolicy: {{ .Values.webhook.failurePolicy }}
sideEffects: None
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
admissionReviewVersions: [v1]
{{- end }}

