package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// certExpiryWarning is how close to expiry a certificate must not be.
const certExpiryWarning = 30 * 24 * time.Hour

// servingCert is what doctor learned of one ksguard webhook's TLS: problems
// found, and what was verified.
type servingCert struct {
	webhook  string
	problems []string
	verified string
}

// inspectCert checks a webhook's caBundle (it must parse and its CAs must
// not expire within 30 days) and, for a URL client config, the serving
// certificate itself: it must verify against the caBundle for the URL's
// host and not expire within 30 days. A Service client config cannot be
// reached from outside the cluster; the dry-run probe shows that the API
// server trusts it.
func inspectCert(ctx context.Context, name string, cc admissionregistrationv1.WebhookClientConfig, now time.Time) servingCert {
	sc := servingCert{webhook: name}
	pool := x509.NewCertPool()
	rest := cc.CABundle
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			sc.problems = append(sc.problems, fmt.Sprintf("%s: its caBundle holds a certificate that does not parse", name))
			continue
		}
		n++
		pool.AddCert(c)
		if c.NotAfter.Sub(now) < certExpiryWarning {
			sc.problems = append(sc.problems, fmt.Sprintf("%s: its CA %q expires %s", name, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	if n == 0 {
		sc.problems = append(sc.problems, name+": its caBundle is empty (cert-manager's cainjector or ksguard's --tls-secret fills it)")
		return sc
	}
	if cc.URL == nil {
		if s := cc.Service; s != nil {
			sc.verified = fmt.Sprintf("%s: caBundle of %d CA(s); the serving certificate is behind Service %s/%s", name, n, s.Namespace, s.Name)
		}
		return sc
	}
	u, err := url.Parse(*cc.URL)
	if err != nil {
		sc.problems = append(sc.problems, fmt.Sprintf("%s: its URL does not parse: %v", name, err))
		return sc
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", host)
	if err != nil {
		sc.problems = append(sc.problems, fmt.Sprintf("%s: the serving certificate at %s does not verify against the caBundle: %v", name, u.Host, err))
		return sc
	}
	defer conn.Close()
	leaf := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
	if leaf.NotAfter.Sub(now) < certExpiryWarning {
		sc.problems = append(sc.problems, fmt.Sprintf("%s: the serving certificate at %s expires %s", name, u.Host, leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	sc.verified = fmt.Sprintf("%s: the serving certificate at %s verifies, valid until %s", name, u.Host, leaf.NotAfter.UTC().Format("2006-01-02"))
	return sc
}

func checkCertificate(_ context.Context, env *Env) Outcome {
	p := env.Probe
	switch {
	case p == nil:
		return notChecked("the probe was not run")
	case p.WebhooksErr != nil:
		return notChecked(p.WebhooksErr.Error())
	case len(p.Certs) == 0:
		return notChecked("ksguard's webhooks are not registered")
	}
	var problems, verified []string
	for _, c := range p.Certs {
		problems = append(problems, c.problems...)
		if c.verified != "" {
			verified = append(verified, c.verified)
		}
	}
	if len(problems) > 0 {
		return failed(strings.Join(problems, "; "),
			"renew ksguard's certificates: with cert-manager, cmctl renew -n <namespace> <release>-serving-cert; with --tls-secret, delete the Secret <release>-tls and ksguard makes a new one")
	}
	return ok(strings.Join(verified, "; "))
}
