package restart

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Hash is the identity of a ConfigMap's content: SHA-256 over every data
// and binaryData key and value, in key order, as 16 hex digits. It changes
// when any key changes, so a change ks-apiserver reads from any key counts.
func Hash(cm *corev1.ConfigMap) string {
	h := sha256.New()
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "d%d:%s%d:%s", len(k), k, len(cm.Data[k]), cm.Data[k])
	}
	keys = keys[:0]
	for k := range cm.BinaryData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "b%d:%s%d:", len(k), k, len(cm.BinaryData[k]))
		h.Write(cm.BinaryData[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
