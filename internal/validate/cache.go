package validate

import (
	"slices"
	"sort"
	"strconv"
)

// The Evaluator keeps the last few views and decisions (recentSize each, in
// memory only), keyed by digests of everything they depend on:
//
//   - a view (the parsed document and what the policy sees of one
//     ConfigMap) by the ConfigMap's name, namespace, annotations, labels,
//     data and binaryData keys and kubesphere.yaml. One write is judged
//     twice, and an UPDATE's old object is the previous stored write, so a
//     write parses one or two new texts instead of four;
//   - a decision by the policy that made it, the request (operation, dry
//     run, user, groups, namespace, name), the views of the object and the
//     old object, and the host's jwtSecret (its keyed fingerprint), source
//     and problem. The Evaluator's options are fixed for its life. A
//     re-sent write, a re-apply of an unchanged config and the audit of a
//     stored config it judged before are answered without evaluating.
//
// A ConfigMap whose document or metadata is larger than maxCachedText is
// judged every time, so the caches stay small whatever is written.

// objects returns the views of req's object and old object.
func (e *Evaluator) objects(req Request) (obj, old *objectView) {
	obj = e.view(req.Object)
	if sameContent(req.Object, req.OldObject) {
		return obj, obj // an UPDATE that changes nothing, as ks-installer's re-apply
	}
	return obj, e.view(req.OldObject)
}

// view returns the view of cm, from the cache when the same content was
// viewed lately.
func (e *Evaluator) view(cm *ConfigMap) *objectView {
	if cm == nil {
		return nil
	}
	key, ok := viewKey(cm)
	if !ok {
		return viewObject(cm, e.fp)
	}
	if v, hit := e.views.get(key); hit {
		return v
	}
	v := viewObject(cm, e.fp)
	v.key, v.cached = key, true
	e.views.put(key, v)
	return v
}

// viewKey is the digest of everything viewObject reads of cm; false when
// cm is too large to keep.
func viewKey(cm *ConfigMap) (digest, bool) {
	doc, hasDoc := cm.Data[ConfigKey]
	size := len(doc)
	for k, v := range cm.Annotations {
		size += len(k) + len(v)
	}
	for k, v := range cm.Labels {
		size += len(k) + len(v)
	}
	if size > maxCachedText {
		return digest{}, false
	}
	w := newKeyWriter()
	w.str("view")
	w.str(cm.Namespace)
	w.str(cm.Name)
	sortedPairs(w, cm.Annotations)
	sortedPairs(w, cm.Labels)
	keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
	for k := range cm.Data {
		keys = append(keys, "d"+k)
	}
	for k := range cm.BinaryData {
		keys = append(keys, "b"+k)
	}
	sort.Strings(keys)
	w.str(strconv.Itoa(len(keys)))
	for _, k := range keys {
		w.str(k)
	}
	if hasDoc {
		w.str("doc")
		w.str(doc)
	}
	return w.sum(), true
}

func sortedPairs(w keyWriter, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.str(strconv.Itoa(len(keys)))
	for _, k := range keys {
		w.str(k)
		w.str(m[k])
	}
}

// decisionKey is the digest of everything a decision on req with p depends
// on besides the Evaluator's fixed options; false when a view is not kept.
func (e *Evaluator) decisionKey(p *Policy, req Request, obj, old *objectView) (digest, bool) {
	if obj != nil && !obj.cached || old != nil && !old.cached {
		return digest{}, false
	}
	w := newKeyWriter()
	w.str("decision")
	w.str(strconv.FormatUint(p.id, 10))
	for _, v := range []*objectView{obj, old} {
		if v == nil {
			w.str("none")
			continue
		}
		w.str("view")
		w.bytes(v.key[:])
	}
	w.str(req.Operation)
	w.str(strconv.FormatBool(req.DryRun))
	w.str(req.User.Username)
	w.str(strconv.Itoa(len(req.User.Groups)))
	for _, g := range req.User.Groups {
		w.str(g)
	}
	w.str(req.Namespace)
	w.str(req.Name)
	if req.Host.Value == nil {
		w.str("no host")
	} else {
		w.str("host")
		w.str(e.fp.Sum(req.Host.Value)) // keyed: the digest never holds an unkeyed hash of the secret
	}
	w.str(req.Host.Source)
	w.str(req.Host.Problem)
	return w.sum(), true
}

// clone returns a copy of d that shares nothing its caller may change.
func (d Decision) clone() Decision {
	d.Denials = slices.Clone(d.Denials)
	d.Warnings = slices.Clone(d.Warnings)
	d.Edits = slices.Clone(d.Edits)
	d.Patch = slices.Clone(d.Patch)
	d.Document = slices.Clone(d.Document)
	d.Waived = slices.Clone(d.Waived)
	d.secrets = slices.Clone(d.secrets)
	return d
}
