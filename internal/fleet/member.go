package fleet

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ksguard/ksguard/internal/kscluster"
)

// SecretAnnotation, on a Cluster object, names that member's ksguard host
// Secret as NAMESPACE/NAME, in place of the fleet's default.
const SecretAnnotation = "ksguard.io/host-secret"

// DefaultSecret is the member's ksguard host Secret unless configured
// otherwise: the one the README's member install creates.
var DefaultSecret = types.NamespacedName{Namespace: "ksguard-system", Name: "ksguard-host-jwt"}

// secretOf returns the ksguard host Secret of member cl: its
// SecretAnnotation, else def.
func secretOf(cl *unstructured.Unstructured, def types.NamespacedName) (types.NamespacedName, error) {
	v, ok := cl.GetAnnotations()[SecretAnnotation]
	if !ok {
		return def, nil
	}
	ns, name, ok := strings.Cut(v, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return def, fmt.Errorf("annotation %s of Cluster %s is %q: set it to NAMESPACE/NAME of the member's ksguard host Secret", SecretAnnotation, cl.GetName(), v)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// conn is a client for one member, kept while its kubeconfig stays the
// same.
type conn struct {
	kubeconfig []byte
	cfg        *rest.Config
	http       *http.Client
	cs         kubernetes.Interface
}

// close drops the connections the member's client keeps open.
func (c *conn) close() {
	if c != nil && c.http != nil {
		c.http.CloseIdleConnections()
	}
}

// connect builds a client for member cl whose every request (dial
// included) gives up after timeout. The client has its own transport, not
// one from client-go's process-wide cache, so a member's replaced
// kubeconfig or a deleted member leaves nothing behind.
func connect(cl *unstructured.Unstructured, timeout time.Duration, userAgent string) (*conn, error) {
	kubeconfig, err := kscluster.Kubeconfig(cl)
	if err != nil {
		return nil, err
	}
	cfg, err := kscluster.RESTConfig(cl)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = timeout
	cfg.UserAgent = userAgent
	// A Dial of fleet's own makes client-go build a transport for this
	// client alone (see k8s.io/client-go/transport's cache key).
	cfg.Dial = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("Cluster %s: building an HTTP client from spec.connection.kubeconfig: %w", cl.GetName(), err)
	}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("Cluster %s: building a client from spec.connection.kubeconfig: %w", cl.GetName(), err)
	}
	return &conn{kubeconfig: kubeconfig, cfg: cfg, http: hc, cs: cs}, nil
}

// unreachable reports whether err means the member's API server did not
// answer (or not usefully): no HTTP status at all (dial, TLS, timeout),
// or one that says "not now" or "not you".
func unreachable(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsUnauthorized(err)
}
