package fleet

import (
	"encoding/base64"
	"strings"
)

// redacted replaces a secret in a message.
const redacted = "(the host's jwtSecret)"

// redact replaces every occurrence of secret in msg, as written and as
// base64 (how a Secret's data travels), by a placeholder. The reasons fleet
// reports come from member API servers and their admission webhooks, which
// fleet does not control, so none leaves fleet unredacted.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	for _, s := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}
