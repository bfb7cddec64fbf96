#!/usr/bin/env bash
# Builds the real Kubernetes test components (kube-apiserver, kubectl, etcd)
# from source fetched through the Go module proxy. No other download is
# needed: no GitHub release tarballs, no envtest archives.
#
# Usage: hack/build-k8s-binaries.sh [TARGET_DIR [BINARY...]]
#   TARGET_DIR defaults to bin/k8s under the repository root.
#   BINARY... limits the build to some of kube-apiserver, kubectl and etcd
#   (default: all three; the tests need only kube-apiserver and etcd).
#
# Idempotent: a binary already in TARGET_DIR that reports the pinned version
# is left alone, so a second run takes a couple of seconds.
#
# How it works: k8s.io/kubernetes cannot be `go install`ed because its go.mod
# replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with local
# directories and requires them at v0.0.0. We build it from a throwaway module
# that requires k8s.io/kubernetes and replaces each such staging module with
# the published release at the matching v0.X.Y. etcd's server module has a
# main package at its root, so it builds from a plain throwaway module.
#
# The Go build and module caches (GOCACHE, GOMODCACHE, GOFLAGS) are the
# caller's, so a rebuild in a fresh clone with a warm cache takes seconds.
# Cold: kube-apiserver ~7 min, kubectl ~2 min, etcd ~1 min (2 cores).
#
# Versions can be overridden with KUBERNETES_VERSION / ETCD_VERSION, but the
# pins below are what the project tests against. Note: the module proxy's
# version list for k8s.io/kubernetes is stale, so pin exact versions.
set -euo pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.37.1}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

log() { printf '%s\n' "build-k8s-binaries: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${1:-$REPO_ROOT/bin/k8s}"
mkdir -p "$TARGET_DIR"
TARGET_DIR="$(cd "$TARGET_DIR" && pwd)"

[[ "$KUBERNETES_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] \
  || die "KUBERNETES_VERSION must look like v1.N.M, got '$KUBERNETES_VERSION'"
K8S_MINOR="${BASH_REMATCH[1]}"
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
[[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] \
  || die "ETCD_VERSION must look like v3.N.M, got '$ETCD_VERSION'"

export CGO_ENABLED=0
# The throwaway modules below must not be pulled into a go.work of the caller.
export GOWORK=off

# --- version checks ---------------------------------------------------------

# Each prints nothing and fails if the binary is missing or reports another
# version.
have_kube_apiserver() {
  local out
  out="$("$TARGET_DIR/kube-apiserver" --version 2>/dev/null)" || return 1
  [[ "$out" == "Kubernetes $KUBERNETES_VERSION" ]]
}
have_kubectl() {
  local out
  out="$("$TARGET_DIR/kubectl" version --client 2>/dev/null)" || return 1
  grep -qx "Client Version: $KUBERNETES_VERSION" <<<"$out"
}
have_etcd() {
  local out
  out="$("$TARGET_DIR/etcd" --version 2>/dev/null)" || return 1
  grep -qx "etcd Version: ${ETCD_VERSION#v}" <<<"$out"
}

need_apiserver=0 need_kubectl=0 need_etcd=0
if have_kube_apiserver; then log "kube-apiserver $KUBERNETES_VERSION already in $TARGET_DIR"; else need_apiserver=1; fi
if have_kubectl; then log "kubectl $KUBERNETES_VERSION already in $TARGET_DIR"; else need_kubectl=1; fi
if have_etcd; then log "etcd $ETCD_VERSION already in $TARGET_DIR"; else need_etcd=1; fi

if (( $# > 1 )); then
  wanted=" ${*:2} "
  [[ "$wanted" == *" kube-apiserver "* ]] || need_apiserver=0
  [[ "$wanted" == *" kubectl "* ]] || need_kubectl=0
  [[ "$wanted" == *" etcd "* ]] || need_etcd=0
fi

if (( need_apiserver + need_kubectl + need_etcd == 0 )); then
  log "binaries up to date in $TARGET_DIR"
  exit 0
fi

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ksguard-k8s-build.XXXXXX")"
cleanup() { rm -rf "$WORK_DIR"; }
trap cleanup EXIT
# Run go commands outside the repository's module, so its go.mod / go.sum are
# never touched.
cd "$WORK_DIR"

# build MODDIR NAME PKG LDFLAGS: builds PKG from the module in MODDIR into a temporary file next to the target and
# moves it into place only on success, so an interrupted build never leaves a
# half-written binary behind.
build() {
  local moddir="$1" name="$2" pkg="$3" ldflags="$4" start tmp
  start=$SECONDS
  tmp="$TARGET_DIR/.$name.tmp.$$"
  if ! go -C "$moddir" build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"; then
    rm -f "$tmp"
    die "go build of $pkg failed"
  fi
  mv -f "$tmp" "$TARGET_DIR/$name"
  log "built $name in $((SECONDS - start))s"
}

# --- kube-apiserver and kubectl ---------------------------------------------

if (( need_apiserver || need_kubectl )); then
  log "resolving k8s.io/kubernetes@$KUBERNETES_VERSION via the Go module proxy"
  k8s_gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')" \
    || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
  [[ -n "$k8s_gomod" && -f "$k8s_gomod" ]] \
    || die "could not find the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"

  # Staging modules: required by k8s.io/kubernetes at v0.0.0 (and replaced
  # by ./staging/... in its own go.mod).
  mapfile -t staging < <(awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// { print $1 }' "$k8s_gomod" | sort -u)
  (( ${#staging[@]} > 0 )) || die "found no v0.0.0 staging modules in $k8s_gomod"
  log "replacing ${#staging[@]} staging modules with their $STAGING_VERSION releases"

  mod="$WORK_DIR/kubernetes"
  mkdir -p "$mod"
  {
    echo "module ksguard.local/k8s-build"
    echo
    echo "go $(awk '$1 == "go" { print $2; exit }' "$k8s_gomod")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    for m in "${staging[@]}"; do echo "	$m => $m $STAGING_VERSION"; done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  go -C "$mod" mod tidy || die "go mod tidy for k8s.io/kubernetes@$KUBERNETES_VERSION failed"

  # Same stamps as Kubernetes' hack/lib/version.sh; without them the binaries
  # report v0.0.0-master.
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean"
  done

  if (( need_apiserver )); then
    log "building kube-apiserver $KUBERNETES_VERSION (cold: ~7 min, ~2.5 GB RAM; warm cache: seconds)..."
    build "$mod" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ldflags"
    have_kube_apiserver || die "built kube-apiserver does not report $KUBERNETES_VERSION"
  fi
  if (( need_kubectl )); then
    log "building kubectl $KUBERNETES_VERSION (cold: ~2 min; warm cache: seconds)..."
    build "$mod" kubectl k8s.io/kubernetes/cmd/kubectl "$ldflags"
    have_kubectl || die "built kubectl does not report $KUBERNETES_VERSION"
  fi
fi

# --- etcd -------------------------------------------------------------------

if (( need_etcd )); then
  mod="$WORK_DIR/etcd"
  mkdir -p "$mod"
  log "resolving go.etcd.io/etcd/server/v3@$ETCD_VERSION via the Go module proxy"
  # The root package of go.etcd.io/etcd/server/v3 is etcd's main package
  # (a wrapper calling etcdmain.Main(os.Args)).
  printf 'module ksguard.local/etcd-build\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$(go env GOVERSION | sed 's/^go//')" "$ETCD_VERSION" >"$mod/go.mod"
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
EOF
  go -C "$mod" mod tidy || die "go mod tidy for go.etcd.io/etcd/server/v3@$ETCD_VERSION failed"
  log "building etcd $ETCD_VERSION (cold: ~1 min; warm cache: seconds)..."
  build "$mod" etcd go.etcd.io/etcd/server/v3 "-s -w"
  have_etcd || die "built etcd does not report ${ETCD_VERSION#v}"
fi

log "done: $(cd "$TARGET_DIR" && ls kube-apiserver kubectl etcd 2>/dev/null | tr '\n' ' ')in $TARGET_DIR"
