package validate

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksguard/ksguard/policies"
)

// TestDecisionCache: an Evaluator that has judged a request answers every
// request that differs from it in one thing (the document, the host's
// jwtSecret, the policy, the user, the old object, …) exactly as an
// Evaluator that has judged nothing, and a repeated request from its cache.
// Were any of these left out of the keys, the cached allow of the base
// request would come back for a request that must be denied or edited.
func TestDecisionCache(t *testing.T) {
	ctx := context.Background()
	modules, err := ReadModules(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := CompilePolicy(ctx, modules)
	if err != nil {
		t.Fatal(err)
	}
	modules["closed.rego"] = "package ksguard.admission\n\ndeny contains \"closed for the test\" if input.operation == \"UPDATE\"\n"
	closed, err := CompilePolicy(ctx, modules)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	good := "authentication:\n  jwtSecret: \"" + hostSecret + "\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n"
	base := func() Request { return updateRequest(good, hostSecret) }

	for _, tc := range []struct {
		name   string
		policy *Policy // nil: the built-in policy
		req    func() Request
		want   string // what the decision must show, unlike the base's allow
	}{
		{name: "another document", req: func() Request {
			r := base()
			r.Object.Data[ConfigKey] = strings.Replace(good, hostSecret, "drifted-"+hostSecret, 1)
			return r
		}, want: "does not match the host"},
		{name: "another host jwtSecret", req: func() Request {
			r := base()
			r.Host.Value = []byte("rotated-" + hostSecret)
			return r
		}, want: "does not match the host"},
		{name: "another policy", policy: closed, req: base, want: "closed for the test"},
		{name: "an edit to make", req: func() Request {
			r := base()
			r.Object.Data[ConfigKey] = strings.Replace(good, "0s", "2h", 1)
			return r
		}, want: "patch"},
		{name: "no host jwtSecret", req: func() Request {
			r := base()
			r.Host = HostSecret{Problem: "the Secret is missing"}
			return r
		}, want: "host"},
		{name: "break-glass by another user", req: func() Request {
			r := base()
			r.Object.Data[ConfigKey] = strings.Replace(good, hostSecret, "drifted-"+hostSecret, 1)
			r.Object.Annotations = map[string]string{"ksguard.io/break-glass": "true"}
			r.User.Groups = []string{"system:masters"}
			return r
		}, want: "warn"},
		{name: "another old object", req: func() Request {
			r := base()
			r.OldObject.Data[ConfigKey] = strings.Replace(good, hostSecret, "old-"+hostSecret, 1)
			return r
		}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cached := NewEvaluator(builtin, DefaultOptions(), fp)
			fresh := NewEvaluator(builtin, DefaultOptions(), fp)
			if d, err := cached.Decide(ctx, base()); err != nil || !d.Allowed || len(d.Patch) > 0 {
				t.Fatalf("base decision: %v %+v", err, d)
			}
			if tc.policy != nil {
				cached.SetPolicy(tc.policy)
				fresh.SetPolicy(tc.policy)
			}
			got, err := cached.Decide(ctx, tc.req())
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Decide(ctx, tc.req())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after judging the base request:\n got %+v\nwant %+v", got, want)
			}
			shown := strings.Join(append(append([]string{}, got.Denials...), got.Warnings...), "\n")
			switch {
			case tc.want == "patch" && len(got.Patch) == 0,
				tc.want == "warn" && (!got.Allowed || len(got.Waived) == 0 && len(got.Warnings) == 0),
				tc.want != "patch" && tc.want != "warn" && tc.want != "" && !strings.Contains(shown, tc.want):
				t.Errorf("the decision does not show %q: %+v", tc.want, got)
			}
		})
	}

	t.Run("a repeated request is a hit, and callers cannot change what is kept", func(t *testing.T) {
		ev := NewEvaluator(builtin, DefaultOptions(), fp)
		req := updateRequest(strings.Replace(good, "0s", "2h", 1), hostSecret)
		first, err := ev.Decide(ctx, req)
		if err != nil || len(first.Patch) != 1 {
			t.Fatalf("first decision: %v %+v", err, first)
		}
		if first.Source() != SourceMade {
			t.Errorf("the first decision's source is %q, want %q", first.Source(), SourceMade)
		}
		first.Warnings[0] = "changed by the caller"
		first.Document[0] = '#'
		obj, old := ev.objects(req)
		key, ok := ev.decisionKey(ev.Policy(), req, obj, old)
		if !ok {
			t.Fatal("a typical request is not cacheable")
		}
		if _, hit := ev.decisions.get(key); !hit {
			t.Fatal("the decision was not kept")
		}
		again, err := ev.Decide(ctx, req)
		if err != nil || strings.Contains(again.Warnings[0], "changed by the caller") || again.Document[0] == '#' {
			t.Errorf("the kept decision changed with its caller's copy: %v %+v", err, again)
		}
		if again.Source() != SourceCache {
			t.Errorf("the repeated decision's source is %q, want %q", again.Source(), SourceCache)
		}
		if !again.HoldsSecret("x" + hostSecret + "x") {
			t.Errorf("a decision from the cache lost the secrets it must redact")
		}
	})

	t.Run("large documents are judged every time", func(t *testing.T) {
		ev := NewEvaluator(builtin, DefaultOptions(), fp)
		req := updateRequest(good+strings.Repeat("# padding\n", maxCachedText/10+1), hostSecret)
		if d, err := ev.Decide(ctx, req); err != nil || !d.Allowed {
			t.Fatalf("%v %+v", err, d)
		}
		if obj, old := ev.objects(req); obj.cached || old.cached {
			t.Errorf("a document over %d bytes was kept", maxCachedText)
		}
	})

	t.Run("concurrent decisions share views", func(t *testing.T) {
		ev := NewEvaluator(builtin, DefaultOptions(), fp)
		edit := updateRequest(strings.Replace(good, "0s", "2h", 1), hostSecret)
		drift := updateRequest(strings.Replace(good, hostSecret, "drifted-"+hostSecret, 1), hostSecret)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if d, err := ev.Decide(ctx, edit); err != nil || !d.Allowed || len(d.Patch) != 1 {
						t.Errorf("goroutine %d, edit: %v %+v", i, err, d)
						return
					}
					if d, err := ev.Decide(ctx, drift); err != nil || d.Allowed {
						t.Errorf("goroutine %d, drift: %v %+v", i, err, d)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// TestPrepare: after a mutation, the validating webhook's request (the
// object with the edited document) is decided in the background and kept,
// and the kept decision is the one an Evaluator that prepared nothing makes.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	ev := newTestEvaluator(t)
	good := "authentication:\n  jwtSecret: \"" + hostSecret + "\"\n  oauthOptions:\n    accessTokenMaxAge: 2h # edited\n"
	req := updateRequest(good, hostSecret)
	req.OldObject.Data[ConfigKey] = strings.Replace(good, "2h", "0s", 1) + "# before\n"
	d, err := ev.Decide(ctx, req)
	if err != nil || !d.Allowed || d.Document == nil {
		t.Fatalf("mutating decision: %v %+v", err, d)
	}
	next, ok := AsMutated(req, d)
	if !ok || next.Object.Data[ConfigKey] != string(d.Document) || req.Object.Data[ConfigKey] != good {
		t.Fatalf("AsMutated: %v %q (and the request it came from must not change)", ok, next.Object.Data[ConfigKey])
	}
	ev.Prepare(req, d)
	obj, old := ev.objects(next)
	key, cacheable := ev.decisionKey(ev.Policy(), next, obj, old)
	if !cacheable {
		t.Fatal("the validating request is not cacheable")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, hit := ev.decisions.get(key); hit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the validating decision was not prepared")
		}
		runtime.Gosched()
	}
	got, err := ev.Decide(ctx, next)
	if err != nil || got.Source() != SourceCache {
		t.Fatalf("the validating decision after Prepare: %v, source %q", err, got.Source())
	}
	want, err := newTestEvaluator(t).Decide(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if got.Allowed != want.Allowed || !reflect.DeepEqual(got.Denials, want.Denials) || !reflect.DeepEqual(got.Patch, want.Patch) || len(got.Patch) != 0 {
		t.Errorf("prepared %+v, made afresh %+v", got, want)
	}
	if _, ok := AsMutated(req, Decision{Allowed: true}); ok {
		t.Error("a decision without an edit has a mutated request")
	}
	if _, ok := AsMutated(req, Decision{Allowed: false, Document: d.Document}); ok {
		t.Error("a refused request has a mutated request")
	}
}

// TestFlights: a request for a decision that is being made waits for it and
// answers with it (SourceJoined), and one whose maker failed makes it
// itself.
func TestFlights(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		makerFails bool
		want       string
	}{
		{"the maker succeeds", false, SourceJoined},
		{"the maker fails", true, SourceMade},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := newTestEvaluator(t)
			req := updateRequest("authentication:\n  jwtSecret: \""+hostSecret+"\"\n  oauthOptions:\n    accessTokenMaxAge: 2h\n", hostSecret)
			obj, old := ev.objects(req)
			key, _ := ev.decisionKey(ev.Policy(), req, obj, old)
			if _, leader := ev.flights.join(key); !leader { // this test makes the decision, as Prepare would
				t.Fatal("a first request did not lead")
			}
			waiting := make(chan struct{})
			ev.flights.onWait = func() { close(waiting) }
			result := make(chan Decision)
			go func() {
				d, err := ev.Decide(ctx, req)
				if err != nil {
					t.Error(err)
				}
				result <- d
			}()
			<-waiting
			if !tc.makerFails {
				d, err := ev.decide(ctx, ev.Policy(), req, obj, old)
				if err != nil {
					t.Fatal(err)
				}
				ev.decisions.put(key, d.clone())
			}
			ev.flights.land(key)
			got := <-result
			if got.Source() != tc.want || !got.Allowed || len(got.Patch) != 1 {
				t.Errorf("source %q, want %q; decision %+v", got.Source(), tc.want, got)
			}
		})
	}
}
