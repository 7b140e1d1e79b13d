package asc

import (
	"net/http"
	"testing"
)

// TestTestFlightRetries: a PATCH that sets a value is retried after a 503
// like a GET; a POST is sent once and its 503 returned.
func TestTestFlightRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	patch := &script{replies: []reply{
		{status: 503, body: `{"errors":[{"status":"503","code":"SERVICE_UNAVAILABLE","title":"t"}]}`},
		{status: 200, body: `{"data":{"type":"betaBuildLocalizations","id":"L1","attributes":{"locale":"en-US","whatsNew":"x"}},"links":{"self":"s"}}`},
	}}
	post := &script{replies: []reply{{status: 503, body: `{"errors":[{"status":"503","code":"SERVICE_UNAVAILABLE","title":"t"}]}`}}}
	h.mux.Handle("/v1/betaBuildLocalizations/L1", patch)
	h.mux.Handle("/v1/builds/B1/relationships/betaGroups", post)

	loc, err := h.client.UpdateBetaBuildLocalization(t.Context(), "L1", "x")
	if err != nil || loc.ID != "L1" {
		t.Fatalf("UpdateBetaBuildLocalization = %v, %v", loc, err)
	}
	reqs := patch.Requests()
	if len(reqs) != 2 || reqs[1].Method != http.MethodPatch || reqs[1].Body != `{"data":{"attributes":{"whatsNew":"x"},"id":"L1","type":"betaBuildLocalizations"}}` {
		t.Errorf("PATCH requests %+v", reqs)
	}
	if err := h.client.AddBuildBetaGroups(t.Context(), "B1", []string{"G1", "G2"}); err == nil {
		t.Fatal("AddBuildBetaGroups succeeded")
	}
	reqs = post.Requests()
	if len(reqs) != 1 || reqs[0].Body != `{"data":[{"type":"betaGroups","id":"G1"},{"type":"betaGroups","id":"G2"}]}` {
		t.Errorf("POST requests %+v", reqs)
	}
}

func TestIsAnotherBuildInReviewAndAutoNotify(t *testing.T) {
	t.Parallel()
	review := newAPIError("POST", "/v1/betaAppReviewSubmissions", 422, []byte(`{"errors":[{"status":"422","code":"ENTITY_UNPROCESSABLE","title":"x","detail":"Another build is in review."}]}`))
	notify := newAPIError("POST", "/v1/buildBetaNotifications", 409, []byte(`{"errors":[{"status":"409","code":"STATE_ERROR.ENTITY_STATE_INVALID","title":"x","detail":"Auto-notify already enabled"}]}`))
	if !IsAnotherBuildInReview(review) || IsAnotherBuildInReview(notify) {
		t.Error("IsAnotherBuildInReview")
	}
	if !IsAutoNotifyEnabled(notify) || IsAutoNotifyEnabled(review) {
		t.Error("IsAutoNotifyEnabled")
	}
}
