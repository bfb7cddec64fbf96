package ksguard

doc := yaml.unmarshal(input.request.object.data["kubesphere.yaml"])

max_age := object.get(doc, ["authentication", "oauthOptions", "accessTokenMaxAge"], null)

zero := {"0s", "0", 0}

edited := json.patch(doc, [{"op": "add", "path": "/authentication/oauthOptions/accessTokenMaxAge", "value": "0s"}])

patch := [{"op": "replace", "path": "/data/kubesphere.yaml", "value": yaml.marshal(edited)}]

deny contains "the jwtSecret differs from the host's" if {
	doc.authentication.jwtSecret != data.host.jwtSecret
}

review(response) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": object.union({"uid": input.request.uid}, response),
}

mutate := review({"allowed": true, "patchType": "JSONPatch", "patch": base64.encode(json.marshal(patch))}) if {
	not max_age in zero
} else := review({"allowed": true})

validate := review({"allowed": true}) if {
	count(deny) == 0
} else := review({"allowed": false, "status": {"code": 403, "message": concat("; ", deny)}})
