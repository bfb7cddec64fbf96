// Package harness runs ksguard against a real Kubernetes API server for the
// end-to-end tests and `make demo`: a local etcd and kube-apiserver started
// by controller-runtime's envtest (from the binaries `make envtest` builds
// into bin/k8s), ksguard's webhook configurations installed in it, and the
// ksguard binary run as a child process with `ksguard serve`, as a
// Deployment would run it.
package harness
