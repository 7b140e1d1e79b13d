package notarysim

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/token"
)

var shaPattern = regexp.MustCompile(`^[A-Fa-f0-9]{64}$`)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiError is the Notary API's documented ErrorResponse shape.
func apiError(w http.ResponseWriter, status int, name, description string) {
	writeJSON(w, status, map[string]any{"name": name, "description": description, "labels": []string{}})
}

func (s *Server) serveNotary(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/logs/"):
		s.serveLog(w, r, strings.TrimPrefix(p, "/logs/"))
		return
	case p == "/database/1/com.apple.gk.ticket-delivery/production/public/records/lookup":
		s.serveLookup(w, r)
		return
	case !strings.HasPrefix(p, "/notary/v2/submissions"):
		apiError(w, http.StatusNotFound, "NotFound", "no such endpoint")
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	rest := strings.Trim(strings.TrimPrefix(p, "/notary/v2/submissions"), "/")
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case rest == "" && r.Method == http.MethodPost:
		s.submit(w, r)
	case rest == "" && r.Method == http.MethodGet:
		s.list(w)
	case id != "" && sub == "" && r.Method == http.MethodGet:
		s.status(w, id)
	case id != "" && sub == "logs" && r.Method == http.MethodGet:
		s.logs(w, r, id)
	default:
		apiError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" "+p)
	}
}

// authenticate checks the bearer token: ES256 by a registered team key,
// aud appstoreconnect-v1, not expired, no longer than 20 minutes, and no
// scope (asc-auth sends none to the notary service).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		apiError(w, http.StatusUnauthorized, "Unauthenticated", "no bearer token")
		return false
	}
	s.mu.Lock()
	now := s.now()
	keys := s.keys
	s.mu.Unlock()
	c, err := token.Verify(tok, func(kid string) (*ecdsa.PublicKey, error) {
		if k := keys[kid]; k != nil {
			return k, nil
		}
		return nil, errors.New("unknown key")
	}, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		apiError(w, http.StatusUnauthorized, "Unauthenticated", "Unauthenticated")
		return false
	case c.Issuer == "":
		s.violation("a token without an issuer (an individual key) reached the notary service")
		apiError(w, http.StatusUnauthorized, "Unauthenticated", "individual keys cannot use the notary service")
		return false
	case c.Lifetime() > 20*time.Minute:
		apiError(w, http.StatusUnauthorized, "Unauthenticated", "token lifetime over 20 minutes")
		return false
	case len(c.Scope) > 0:
		s.violation("a token with a scope reached the notary service")
	}
	s.tokens[tok] = true
	if strings.HasSuffix(r.URL.Path, "/submissions") || r.Method != http.MethodGet {
		return true
	}
	if s.takeFault(FaultExpiredToken) {
		apiError(w, http.StatusUnauthorized, "Unauthenticated", "Unauthenticated")
		return false
	}
	if s.takeFault(FaultEchoToken) {
		apiError(w, http.StatusUnauthorized, "Unauthenticated", EchoMarker+" refused Authorization: Bearer "+tok)
		return false
	}
	return true
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	d := json.NewDecoder(bytes.NewReader(b))
	if r.Header.Get("Content-Type") != "application/json" || d.Decode(&body) != nil {
		apiError(w, http.StatusBadRequest, "BadRequest", "the body is not JSON")
		return
	}
	var name, sum string
	for k, v := range body {
		var err error
		switch k {
		case "submissionName":
			err = json.Unmarshal(v, &name)
		case "sha256":
			err = json.Unmarshal(v, &sum)
		case "notifications":
		default:
			err = fmt.Errorf("unknown field %s", k)
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
	}
	if name == "" || !shaPattern.MatchString(sum) {
		apiError(w, http.StatusBadRequest, "BadRequest", "submissionName and a 64-hex-digit sha256 are required")
		return
	}
	s.mu.Lock()
	if s.takeFault(FaultSubmitAgreement) {
		s.mu.Unlock()
		apiError(w, http.StatusForbidden, "Forbidden", "A required agreement is missing or has expired.")
		return
	}
	if s.takeFault(FaultSubmit503) {
		s.mu.Unlock()
		apiError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "try again")
		return
	}
	id := uuid()
	sub := &Submission{ID: id, Name: name, SHA256: strings.ToLower(sum), Status: "In Progress", Created: s.now().UTC(),
		AccessKey: "ASIA" + upper(randomHex(8)), Secret: base64.StdEncoding.EncodeToString([]byte(randomHex(15))),
		Token:  "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString([]byte(randomHex(48))),
		Bucket: "notary-submissions-sim", Object: "prod/AROASIMULATOR0000:" + id}
	s.subs = append(s.subs, sub)
	landed := s.takeFault(FaultSubmitLanded)
	s.mu.Unlock()
	if landed {
		hijackClose(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": id, "type": "newSubmissions", "attributes": map[string]any{
		"awsAccessKeyId": sub.AccessKey, "awsSecretAccessKey": sub.Secret, "awsSessionToken": sub.Token,
		"bucket": sub.Bucket, "object": sub.Object}}, "meta": map[string]any{}})
}

func (s *Server) doc(sub *Submission) map[string]any {
	return map[string]any{"id": sub.ID, "type": "submissions", "attributes": map[string]any{
		"createdDate": sub.Created.Format("2006-01-02T15:04:05.000Z"), "name": sub.Name, "status": sub.Status}}
}

func (s *Server) list(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []any{}
	for i := len(s.subs) - 1; i >= 0 && len(data) < 100; i-- {
		data = append(data, s.doc(s.subs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": map[string]any{}})
}

func (s *Server) find(id string) *Submission {
	for _, sub := range s.subs {
		if sub.ID == id {
			return sub
		}
	}
	return nil
}

func (s *Server) status(w http.ResponseWriter, id string) {
	s.mu.Lock()
	if s.takeFault(FaultStatus5xx) {
		s.mu.Unlock()
		apiError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "try again")
		return
	}
	if s.takeFault(FaultStatusDrop) {
		s.mu.Unlock()
		hijackClose(w)
		return
	}
	defer s.mu.Unlock()
	sub := s.find(id)
	if sub == nil {
		apiError(w, http.StatusNotFound, "NotFound", "No data was found for this team")
		return
	}
	if sub.Uploaded && sub.Status == "In Progress" {
		sub.Polls++
		if sub.Polls > s.decideAfter {
			s.decide(sub)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.doc(sub), "meta": map[string]any{}})
}

// decide gives the submission its outcome and, when accepted, makes its
// ticket; s.mu is held.
func (s *Server) decide(sub *Submission) {
	sub.Status = s.outcome
	if sub.UploadedSHA != "" && sub.UploadedSHA != sub.SHA256 {
		sub.Status = "Invalid"
	}
	if sub.Status == "Accepted" && s.recordName != nil && sub.Data != nil {
		if rec, err := s.recordName(sub.Name, sub.Data); err == nil {
			s.tickets[rec] = append([]byte("s8ch"), []byte("simulated notarization ticket for "+sub.ID)...)
		}
	}
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	sub := s.find(id)
	s.mu.Unlock()
	if sub == nil || sub.Status == "In Progress" {
		apiError(w, http.StatusNotFound, "NotFound", "No data was found for this team")
		return
	}
	u := s.notaryURL + "/logs/" + id + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIASIMLOG%2F20261129%2Fus-west-2%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20261129T000000Z&X-Amz-Expires=28800&X-Amz-Security-Token=" + logToken + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + logSignature
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": id, "type": "submissionsLog", "attributes": map[string]any{"developerLogUrl": u}}, "meta": map[string]any{}})
}

// The presigned log URL's secrets, which must never be printed.
const (
	logToken     = "FwoGZXIvYXdzEBsimulatedlogtoken0123456789"
	logSignature = "5d2c7e0b9a5f0c1e7e2b7c3a8f1d6e4b9c0a1f2e3d4c5b6a7980f1e2d3c4b5a6"
)

// LogSecrets are the presigned log URL's signature and token.
var LogSecrets = []string{logToken, logSignature}

func (s *Server) serveLog(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		s.violation("the developer log was fetched with an Authorization header")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>")
		return
	}
	if s.takeFault(FaultEchoLogURL) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>"+EchoMarker+" "+r.URL.String()+"</Message></Error>")
		return
	}
	if r.URL.Query().Get("X-Amz-Signature") != logSignature {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	sub := s.find(id)
	if sub == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	log := map[string]any{"logFormatVersion": 1, "jobId": sub.ID, "status": sub.Status, "archiveFilename": sub.Name,
		"uploadDate": sub.Created.Format("2006-01-02T15:04:05.000Z"), "sha256": sub.SHA256, "ticketContents": nil, "issues": nil}
	switch sub.Status {
	case "Accepted":
		log["statusSummary"], log["statusCode"] = "Ready for distribution", 0
		log["ticketContents"] = []any{map[string]any{"path": sub.Name, "digestAlgorithm": "SHA-256", "cdhash": randomHex(20), "arch": "x86_64"}}
	case "Invalid":
		log["statusSummary"], log["statusCode"] = "Archive contains critical validation errors", 4000
	case "Rejected":
		log["statusSummary"], log["statusCode"] = "Team is not yet configured for notarization", 7000
	}
	if len(s.issues) > 0 {
		var issues []any
		for _, is := range s.issues {
			var doc any
			if is.DocURL != "" {
				doc = is.DocURL
			}
			issues = append(issues, map[string]any{"severity": is.Severity, "code": nil, "path": is.Path, "message": is.Message, "docUrl": doc, "architecture": is.Architecture})
		}
		log["issues"] = issues
	}
	writeJSON(w, http.StatusOK, log)
}

func (s *Server) serveLookup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Records []struct {
			RecordName string `json:"recordName"`
		} `json:"records"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req) != nil || len(req.Records) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"serverErrorCode": "BAD_REQUEST", "reason": "bad request"})
		return
	}
	if r.Header.Get("Authorization") != "" {
		s.mu.Lock()
		s.violation("the ticket lookup carried an Authorization header")
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, rec := range req.Records {
		s.lookups[rec.RecordName]++
		t, ok := s.tickets[rec.RecordName]
		if !ok || s.lookups[rec.RecordName] <= s.ticketLag {
			out = append(out, map[string]any{"recordName": rec.RecordName, "reason": "Record not found", "serverErrorCode": "NOT_FOUND"})
			continue
		}
		out = append(out, map[string]any{"recordName": rec.RecordName, "recordType": "DeveloperIDTicket", "deleted": false,
			"fields": map[string]any{"signedTicket": map[string]any{"type": "BYTES", "value": base64.StdEncoding.EncodeToString(t)}}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out})
}
