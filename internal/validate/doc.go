// Package validate holds ksguard's decision: it parses the kubesphere.yaml
// document of the guarded ConfigMap, builds the policy input, evaluates the
// prepared Rego queries and turns their result into an admission decision
// (allowed or denied, warnings, and a JSON patch that edits the YAML text in
// place).
//
// The package is pure: bytes and values in, a decision out. It does no I/O
// beyond reading policy files from an fs.FS, and knows nothing of HTTP or of
// the Kubernetes client, so the webhook, `ksguard eval`, the tests and the
// benchmarks all run the same code.
package validate
