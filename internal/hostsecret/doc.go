// Package hostsecret provides the host cluster's jwtSecret to the webhook:
// from a Secret on the member, watched through controller-runtime's cache,
// or from a file, watched on disk. A change is used by the next decision,
// without a restart. The value is never logged: changes are logged as
// "available" or the problem that makes it unavailable.
package hostsecret
