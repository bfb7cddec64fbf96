package validate

// ConfigSettings reads the guarded settings of a ConfigMap's
// kubesphere.yaml (secrets as fingerprints of the Evaluator's
// Fingerprinter), from the view a decision on the same content made. ok is
// false when the ConfigMap has no readable document.
func (e *Evaluator) ConfigSettings(cm *ConfigMap) (s Settings, ok bool) {
	v := e.view(cm)
	if v == nil || v.doc == nil || v.doc.Root == nil {
		return Settings{}, false
	}
	return v.settings, true
}

// ChangedSettings names the guarded settings that differ between two
// readings (jwtSecret, legacyJwtSecret, accessTokenMaxAge): what was
// written, never the values.
func ChangedSettings(old, cur Settings) []string {
	var changed []string
	if secretChanged(old.JWTSecret, cur.JWTSecret) {
		changed = append(changed, "jwtSecret")
	}
	if secretChanged(old.LegacyJWTSecret, cur.LegacyJWTSecret) {
		changed = append(changed, "legacyJwtSecret")
	}
	a, b := old.AccessTokenMaxAge, cur.AccessTokenMaxAge
	if a.Present != b.Present || a.Raw != b.Raw || a.Null != b.Null || a.Path != b.Path {
		changed = append(changed, "accessTokenMaxAge")
	}
	return changed
}

func secretChanged(a, b SecretSetting) bool {
	return a.Present != b.Present || a.Fingerprint != b.Fingerprint || a.Tag != b.Tag || a.Path != b.Path
}
