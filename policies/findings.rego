package ksguard.admission

# Every finding of ksguard's parser denies the write: each makes what
# ks-apiserver reads differ from what ksguard (or the host) checks. The
# kinds are listed in README.md; to let one through, add a condition such as
#   f.kind != "shadowing-data-key"
violation contains f.message if {
	writing
	some f in input.object.findings
}
