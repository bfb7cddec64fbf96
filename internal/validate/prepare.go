package validate

import (
	"context"
	"maps"
	"time"
)

// Prepare makes, in the background, the decision the validating webhook
// will be asked for after the mutating webhook answered req with d: req
// with d's document in place of its own (AsMutated). The API server sends
// that request once every mutating webhook has answered; by then the
// decision is usually made, and the validating webhook answers from the
// cache (a request that arrives while it is being made waits for it
// instead of making it twice). Only a decision that edited the document is
// prepared: otherwise the validating webhook is sent what the mutating
// webhook judged, a decision already kept.
func (e *Evaluator) Prepare(req Request, d Decision) {
	next, ok := AsMutated(req, d)
	if !ok || len(d.Document) > maxCachedText { // a large document's decision is not kept
		return
	}
	go func() {
		defer func() { _ = recover() }() // the validating webhook's own call makes, and reports, what went wrong
		ctx, cancel := context.WithTimeout(context.Background(), prepareTimeout)
		defer cancel()
		_, _ = e.Decide(ctx, next) // an error is made again, and reported, by the validating webhook's own call
	}()
}

// prepareTimeout bounds a prepared decision.
const prepareTimeout = 30 * time.Second

// AsMutated returns req as the API server sends it to the validating
// webhooks after the mutating webhook answered it with d: the object with
// d's edited document. ok is false when d changed nothing or refused req.
func AsMutated(req Request, d Decision) (Request, bool) {
	if !d.Allowed || d.Document == nil || req.Object == nil {
		return req, false
	}
	obj := *req.Object // the rest is shared, read-only, with req: only Data changes
	obj.Data = maps.Clone(req.Object.Data)
	obj.Data[ConfigKey] = string(d.Document)
	req.Object, req.UID = &obj, ""
	return req, true
}
