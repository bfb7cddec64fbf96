package ksguard.admission

# Members of this fleet must also keep accessTokenInactivityTimeout at 0s
# (KubeSphere v3: authentication.oauthOptions).
violation contains msg if {
	checkable
	t := input.object.document.authentication.oauthOptions.accessTokenInactivityTimeout
	t != "0s"
	msg := sprintf("accessTokenInactivityTimeout is %v: set it to 0s", [t])
}
