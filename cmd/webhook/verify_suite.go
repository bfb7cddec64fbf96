package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/ksguard/ksguard/internal/hostsecret"
	"github.com/ksguard/ksguard/internal/validate"
)

// suite is a file of verify cases (README.md, "ksguard verify"). Paths in
// it are relative to the file.
type suite struct {
	// Name names the suite in reports (default: the file name).
	Name string `json:"name"`
	// caseSettings are the defaults of every case.
	caseSettings `json:",inline"`
	// Cases are the writes to judge.
	Cases []suiteCase `json:"cases"`

	file string // the suite's path, as given
}

// caseSettings are what a case is judged with; a case's own override the
// suite's.
type caseSettings struct {
	// PolicyDir is a policy directory (default: the embedded policies alone).
	PolicyDir string `json:"policyDir,omitempty"`
	// PolicyMode is additive (default) or replace.
	PolicyMode string `json:"policyMode,omitempty"`
	// HostSecretFile holds the host cluster's jwtSecret.
	HostSecretFile string `json:"hostSecretFile,omitempty"`
	// HostSecret is the host's jwtSecret itself, for tests.
	HostSecret string `json:"hostSecret,omitempty"`
	// Mode is enforce (default) or warn.
	Mode string `json:"mode,omitempty"`
}

// suiteCase is one write and what ksguard must decide about it.
type suiteCase struct {
	// Name names the case (required).
	Name         string `json:"name"`
	caseSettings `json:",inline"`
	// Object is the ConfigMap written: a manifest file, or the manifest.
	Object json.RawMessage `json:"object"`
	// Old is the stored ConfigMap, for an UPDATE or DELETE: the same.
	Old json.RawMessage `json:"old,omitempty"`
	// Operation is CREATE, UPDATE or DELETE (default: UPDATE with old,
	// else CREATE).
	Operation string `json:"operation,omitempty"`
	// User and Groups make the write.
	User   string   `json:"user,omitempty"`
	Groups []string `json:"groups,omitempty"`
	// Expect is what must be true of the decision.
	Expect expectation `json:"expect"`
}

// expectation is what a case must decide.
type expectation struct {
	// Allowed is whether the write is allowed.
	Allowed *bool `json:"allowed"`
	// Denials and Warnings hold one regular expression per message: each
	// matches a message of its own, and there are no other messages. Not
	// given: not checked.
	Denials  *[]string `json:"denials,omitempty"`
	Warnings *[]string `json:"warnings,omitempty"`
	// Values are values of the resulting kubesphere.yaml by dotted path
	// (authentication.oauthOptions.accessTokenMaxAge: 0s).
	Values map[string]string `json:"values,omitempty"`
	// Unchanged is true when no line of kubesphere.yaml but those of Values
	// may change.
	Unchanged bool `json:"unchangedOtherwise,omitempty"`
}

// readSuite reads and checks a suite file.
func readSuite(path string) (*suite, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the suite: %w", err)
	}
	s := &suite{file: path}
	if err := yaml.UnmarshalStrict(b, s); err != nil {
		return nil, fmt.Errorf("reading the suite %s: %w (see README.md, \"ksguard verify\", for its fields)", path, err)
	}
	if s.Name == "" {
		s.Name = filepath.Base(path)
	}
	if len(s.Cases) == 0 {
		return nil, fmt.Errorf("suite %s has no cases", path)
	}
	seen := map[string]bool{}
	for i, c := range s.Cases {
		switch {
		case c.Name == "":
			return nil, fmt.Errorf("suite %s: case %d has no name", path, i+1)
		case seen[c.Name]:
			return nil, fmt.Errorf("suite %s: two cases are named %q", path, c.Name)
		case len(c.Object) == 0:
			return nil, fmt.Errorf("suite %s, case %q: no object (a manifest file, or the manifest under object:)", path, c.Name)
		case c.Expect.Allowed == nil:
			return nil, fmt.Errorf("suite %s, case %q: expect.allowed is required (true or false)", path, c.Name)
		}
		seen[c.Name] = true
	}
	return s, nil
}

// settings returns the case's settings over the suite's, with paths made
// relative to the working directory.
func (s *suite) settings(c *suiteCase) caseSettings {
	out := s.caseSettings
	if c.PolicyDir != "" {
		out.PolicyDir = c.PolicyDir
	}
	if c.PolicyMode != "" {
		out.PolicyMode = c.PolicyMode
	}
	if c.HostSecretFile != "" || c.HostSecret != "" {
		out.HostSecretFile, out.HostSecret = c.HostSecretFile, c.HostSecret
	}
	if c.Mode != "" {
		out.Mode = c.Mode
	}
	if out.PolicyMode == "" {
		out.PolicyMode = validate.PolicyModeAdditive
	}
	if out.Mode == "" {
		out.Mode = validate.ModeEnforce
	}
	out.PolicyDir = s.path(out.PolicyDir)
	out.HostSecretFile = s.path(out.HostSecretFile)
	return out
}

// path resolves p against the suite's directory.
func (s *suite) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(s.file), p)
}

// host returns the host's jwtSecret of settings.
func (cs caseSettings) host() (validate.HostSecret, error) {
	switch {
	case cs.HostSecretFile != "" && cs.HostSecret != "":
		return validate.HostSecret{}, fmt.Errorf("give hostSecretFile or hostSecret, not both")
	case cs.HostSecret != "":
		return validate.HostSecret{Value: []byte(cs.HostSecret), Source: "the suite"}, nil
	case cs.HostSecretFile != "":
		return hostsecret.ReadFile(cs.HostSecretFile)
	}
	return validate.HostSecret{Problem: "the suite gives no host secret"}, nil
}

// configMap reads a case's object or old: a file name, or the manifest.
func (s *suite) configMap(raw json.RawMessage) (*validate.ConfigMap, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var file string
	if json.Unmarshal(raw, &file) == nil {
		if file == "-" || file == "" {
			return nil, fmt.Errorf("suite %s: a manifest file name cannot be %q", s.file, file)
		}
		b, err := readInput(s.path(file), nil)
		if err != nil {
			return nil, err
		}
		return parseConfigMap(b, s.path(file))
	}
	return parseConfigMap(raw, s.file)
}
