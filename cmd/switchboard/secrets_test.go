package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// secrets are the secret values a test drives through a process, by what they are.
type secrets map[string]string

// add makes a secret that appears nowhere by chance.
func (s secrets) add(what string) string {
	v := strings.ReplaceAll(what, " ", "-") + "-" + rand.Text()
	s[what] = v
	return v
}

// leaks lists the secrets that appear in logs, as they are or encoded as a log line, a
// URL or a header might carry them; for tokens (prefix.tenant.secret) the secret part
// alone counts too.
func (s secrets) leaks(logs string) []string {
	var found []string
	for what, v := range s {
		needles := []string{v}
		if i := strings.LastIndexByte(v, '.'); i >= 0 && len(v)-i > 16 {
			needles = append(needles, v[i+1:])
		}
		for _, n := range needles {
			forms := map[string]string{
				"as is": n, "URL-escaped": url.QueryEscape(n), "path-escaped": url.PathEscape(n),
				"base64": base64.StdEncoding.EncodeToString([]byte(n)), "base64url": base64.RawURLEncoding.EncodeToString([]byte(n)),
				"quoted": fmt.Sprintf("%q", n),
			}
			for form, f := range forms {
				// Encodings pad or shift; the middle of the encoded form is the telling part.
				if form == "base64" || form == "base64url" {
					f = f[2 : len(f)-4]
				}
				if strings.Contains(logs, f) {
					found = append(found, fmt.Sprintf("%s (%s)", what, form))
				}
			}
		}
	}
	return found
}

// TestServeNeverLogsASecret runs the real binary's `serve` at its most verbose level and
// drives every kind of secret through it, accepted and refused: staff passwords right and
// wrong, staff tokens live, tampered and revoked, visitor keys and visitor tokens, API
// keys created, used, tampered and revoked, the Alertmanager webhook's token right and
// wrong, the database URL's password, and a mail relay's password that the relay accepts
// and one it refuses. Then not one of them may appear in what it wrote, in any encoding;
// nor in what `serve` says when it cannot start.
func TestServeNeverLogsASecret(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := secrets{}

	// The database, its URL with a password (the test cluster trusts loopback, so any
	// password connects: it is carried everywhere the URL goes all the same).
	dbURL := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	withPassword, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	withPassword.User = url.UserPassword(withPassword.User.Username(), s.add("database password"))

	relayPassword := s.add("relay password")
	relayPort := startRelay(t, "relay", relayPassword)
	staffPassword := s.add("staff password")
	var widgetKey string
	configure := func(relaySecret string) {
		t.Helper()
		cfg := &provision.Config{}
		if err := cfg.Parse("secrets.yaml", []byte(fmt.Sprintf(secretsConfig, relayPort, relaySecret))); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		applied, err := provision.Apply(ctx, conn, cfg)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := auth.HashPassword(staffPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := provision.DemoAccounts(ctx, conn, applied, hash); err != nil {
			t.Fatal(err)
		}
		widgetKey = applied[0].WidgetKey
	}
	configure(relayPassword)

	addr := freeAddr(t)
	base := "http://" + addr
	alertToken := s.add("alertmanager token")
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--log-level", "debug", "--listen", addr, "--database-url", withPassword.String(), "--alertmanager-token", alertToken)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck
	waitReady(t, base, logs)

	authClient := func(token string) authv1connect.AuthServiceClient {
		return authv1connect.NewAuthServiceClient(http.DefaultClient, base, connect.WithInterceptors(testenv.Bearer(token)))
	}
	chatClient := func(token string) chatv1connect.ChatServiceClient {
		return chatv1connect.NewChatServiceClient(http.DefaultClient, base, connect.WithInterceptors(testenv.Bearer(token)))
	}
	want := func(what string, err error, code connect.Code) {
		t.Helper()
		if testenv.Code(err) != code {
			t.Fatalf("%s: %v, want %v", what, err, code)
		}
	}
	login := func(user, password string) (string, error) {
		res, err := authClient("").Login(ctx, connect.NewRequest(&authv1.LoginRequest{Tenant: "acme", Username: user, Password: password}))
		if err != nil {
			return "", err
		}
		return res.Msg.Token, nil
	}

	// Staff: passwords right and wrong, tokens live, tampered and revoked.
	admin, err := login("admin", staffPassword)
	want("the admin signing in", err, 0)
	s["admin's token"] = admin
	_, err = login("admin", s.add("wrong password"))
	want("a wrong password", err, connect.CodeUnauthenticated)
	_, err = login("nobody", s.add("unknown user's password"))
	want("an unknown user", err, connect.CodeUnauthenticated)
	// Most of a tampered token is the real one's secret.
	tampered := admin[:len(admin)-6] + "AAAAAA"
	s["tampered token"] = tampered
	_, err = authClient(tampered).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
	want("a tampered token", err, connect.CodeUnauthenticated)
	sam, err := login("sam", staffPassword)
	want("sam signing in", err, 0)
	s["sam's token"] = sam
	ann, err := login("ann", staffPassword)
	want("ann signing in", err, 0)
	s["ann's token"] = ann

	// API keys: made, used, used where they open nothing, tampered, revoked.
	created, err := authClient(admin).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop-backend"}))
	want("creating an API key", err, 0)
	apiKey := created.Msg.Key
	s["API key"] = apiKey
	record := func(key string) error {
		_, err := conversionv1connect.NewConversionServiceClient(http.DefaultClient, base, connect.WithInterceptors(testenv.Bearer(key))).RecordConversion(ctx,
			connect.NewRequest(&conversionv1.RecordConversionRequest{OrderId: "A-1", Amount: "10.00", Currency: "EUR", ConversationId: uuid.NewString()}))
		return err
	}
	want("a sale with the API key", record(apiKey), connect.CodeNotFound)
	badKey := apiKey[:strings.LastIndexByte(apiKey, '.')+1] + s.add("forged API key secret")
	s["forged API key"] = badKey
	want("a sale with a forged API key", record(badKey), connect.CodeUnauthenticated)
	_, err = authClient(apiKey).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
	want("the API key on AuthService", err, connect.CodePermissionDenied)
	_, err = authClient(admin).RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop-backend"}))
	want("revoking the API key", err, 0)
	want("a sale with the revoked API key", record(apiKey), connect.CodeUnauthenticated)

	// Visitors: a visitor key, a conversation's token, tampered ones.
	agent, stop := agentOnline(t, chatClient(ann))
	defer stop()
	seen, err := chatClient("").TrackPageView(ctx, connect.NewRequest(&chatv1.TrackPageViewRequest{WidgetKey: widgetKey, PageUrl: "https://shop.example.com/"}))
	want("a page view", err, 0)
	visitorKey := seen.Msg.VisitorKey
	s["visitor key"] = visitorKey
	_, err = chatClient("").TrackPageView(ctx, connect.NewRequest(&chatv1.TrackPageViewRequest{WidgetKey: widgetKey, VisitorKey: visitorKey, PageUrl: "https://shop.example.com/2"}))
	want("a page view with the visitor key", err, 0)
	_, err = chatClient("").TrackPageView(ctx, connect.NewRequest(&chatv1.TrackPageViewRequest{WidgetKey: widgetKey, VisitorKey: "sbk." + s.add("forged visitor key"), PageUrl: "https://shop.example.com/3"}))
	if err != nil && testenv.Code(err) != connect.CodeInvalidArgument {
		t.Fatalf("a page view with a forged visitor key: %v", err)
	}
	started, err := chatClient("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: widgetKey, BusinessUnit: "sales", VisitorKey: visitorKey,
		VisitorName: "Vic", VisitorEmail: "vic@example.com", FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: "hello"}}))
	want("starting a chat", err, 0)
	if started.Msg.Conversation == nil {
		t.Fatalf("the chat was kept as an offline message: ann is not online")
	}
	conversation, visitorToken := started.Msg.Conversation.Id, started.Msg.VisitorToken
	s["visitor token"] = visitorToken
	_, err = chatClient(visitorToken).SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conversation, ClientMessageId: uuid.NewString(), Text: "are you there?"}))
	want("the visitor's message", err, 0)
	forgedVisitor := visitorToken[:strings.LastIndexByte(visitorToken, '.')+1] + s.add("forged visitor token")
	s["forged visitor token"] = forgedVisitor
	_, err = chatClient(forgedVisitor).SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conversation, ClientMessageId: uuid.NewString(), Text: "forged"}))
	want("a message with a forged visitor token", err, connect.CodeUnauthenticated)
	_, err = agent.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conversation}))
	want("ann accepting the chat", err, 0)

	// The mail relay: its password accepted, then a wrong one refused.
	supervision := supervisionv1connect.NewSupervisionServiceClient(http.DefaultClient, base, connect.WithInterceptors(testenv.Bearer(sam)))
	mail := func() error {
		_, err := supervision.SendTranscript(ctx, connect.NewRequest(&supervisionv1.SendTranscriptRequest{ConversationId: conversation, To: "vic@example.com"}))
		return err
	}
	want("mailing the transcript", mail(), 0)
	configure(s.add("wrong relay password"))
	want("mailing the transcript through a relay that refuses the password", mail(), connect.CodeUnavailable)

	// Alertmanager's webhook: its token right and wrong, a body it cannot read.
	webhook := func(token, body string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/alertmanager/webhook", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	alerts := `{"alerts":[{"status":"firing","labels":{"tenant":"acme","business_unit":"sales","objective":"frt","metric":"firstResponseTime","severity":"warning"},
		"annotations":{"value":"90","threshold":"60"}},{"status":"firing","labels":{"alertname":"NotOurs"}}]}`
	if code := webhook(alertToken, alerts); code != http.StatusOK {
		t.Fatalf("the webhook with its token: %d", code)
	}
	if code := webhook(s.add("wrong alertmanager token"), alerts); code != http.StatusUnauthorized {
		t.Fatalf("the webhook with a wrong token: %d", code)
	}
	if code := webhook(alertToken, "{not json"); code != http.StatusBadRequest {
		t.Fatalf("the webhook with a body it cannot read: %d", code)
	}

	// The staff token revoked, then refused.
	_, err = authClient(admin).Logout(ctx, connect.NewRequest(&authv1.LogoutRequest{}))
	want("signing out", err, 0)
	_, err = authClient(admin).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
	want("the revoked token", err, connect.CodeUnauthenticated)

	stop()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM\n%s", err, logs.String())
	}
	out := logs.String()
	// The run was logged at its most verbose: the webhook's skipped alert is a debug line.
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "call failed") {
		t.Fatalf("serve's log lacks its debug lines or the failed mail; was it verbose?\n%s", out)
	}

	// serve refusing to start says why without the password: a server that is not there,
	// a URL it cannot read.
	for _, u := range []string{
		fmt.Sprintf("postgres://owner:%s@127.0.0.1:1/switchboard", url.QueryEscape(s.add("unreachable database password"))),
		fmt.Sprintf("postgres://owner:%s@127.0.0.1:port/switchboard", url.QueryEscape(s.add("unparsable URL's password"))),
		fmt.Sprintf("host=127.0.0.1 port=1 user=owner password=%s dbname=switchboard connect_timeout=1", s.add("key=value password")),
	} {
		start := exec.Command(bin, "serve", "--log-level", "debug", "--listen", freeAddr(t))
		start.Env = append(os.Environ(), "SWITCHBOARD_DATABASE_URL="+u)
		said, err := start.CombinedOutput()
		if err == nil {
			t.Fatalf("serve started on %s", u)
		}
		out += "\n" + string(said)
	}
	if found := s.leaks(out); len(found) > 0 {
		t.Errorf("serve logged secrets: %s\n%s", strings.Join(found, ", "), out)
	}
	t.Logf("%d secrets checked against %d lines of log", len(s), strings.Count(out, "\n"))
}

// secretsConfig is a tenant whose mail relay (port %d) signs in with the password in a
// Secret (%s), an agent and a supervisor.
const secretsConfig = `
apiVersion: v1
kind: Secret
metadata: {name: relay, namespace: acme}
stringData: {password: %[2]s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec:
  smtp: {host: 127.0.0.1, port: %[1]d, from: chat@acme.example, username: relay, passwordSecretRef: {name: relay, key: password}}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 5}
`

// startRelay runs a real SMTP relay on loopback that signs in user with password only.
func startRelay(t *testing.T, user, password string) int {
	t.Helper()
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return &relaySession{user: user, password: password}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback; Go's client sends PLAIN to 127.0.0.1 only
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

type relaySession struct {
	user, password string
	signedIn       bool
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *relaySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.user || password != s.password {
			return errors.New("invalid credentials")
		}
		s.signedIn = true
		return nil
	}), nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(string, *gosmtp.MailOptions) error {
	if !s.signedIn {
		return &gosmtp.SMTPError{Code: 530, Message: "sign in first"}
	}
	return nil
}
func (s *relaySession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *relaySession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// agentOnline opens an agent's stream, waits until it reports the agent's status, and
// returns the agent's client and what closes the stream.
func agentOnline(t *testing.T, client chatv1connect.ChatServiceClient) (chatv1connect.ChatServiceClient, func()) {
	t.Helper()
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := client.AgentStream(sctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		cancel()
		t.Fatalf("the agent's stream: %v", err)
	}
	online := make(chan struct{})
	var once sync.Once
	go func() {
		for stream.Receive() {
			if stream.Msg().GetStatus() != 0 {
				once.Do(func() { close(online) })
			}
		}
	}()
	select {
	case <-online:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("the agent's stream reported no status within 10s")
	}
	return client, cancel
}

// waitReady waits until serve at base is ready.
func waitReady(t *testing.T, base string, logs *syncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve at %s not ready: %v\n%s", base, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncBuffer is a process's stdout and stderr, read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestTheOperatorNeverLogsASecret runs the real binary's operator at --log-level debug
// against a real API server and PostgreSQL while it handles every secret it keeps or
// reads: a tenant's first admin password and its API key (and the new one it makes when
// the Secret is deleted), a mail relay's password from a Secret that comes after the
// Tenant, a Dedicated tenant's role password and database URL, and its own database
// URL's password. None may appear in its log, in any encoding.
func TestTheOperatorNeverLogsASecret(t *testing.T) {
	bin := binary(t)
	kube, err := testenv.StartKube()
	if err != nil {
		t.Fatal(err)
	}
	defer kube.Stop() //nolint:errcheck
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kube.Env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	s := secrets{}
	dbURL, err := url.Parse(pgtest.NewDatabase(t, cluster))
	if err != nil {
		t.Fatal(err)
	}
	dbURL.User = url.UserPassword(dbURL.User.Username(), s.add("operator's database password"))

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "operator", "--log-level", "debug", "--health-probe-bind-address="+freeAddr(t), "--metrics-bind-address=0")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "SWITCHBOARD_DATABASE_URL="+dbURL.String())
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck

	ctx := context.Background()
	c := kube.Client
	wait := func(what string, ok func() error) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			err := ok()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v\n%s", what, err, logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	secretValue := func(namespace, name, key string) func() error {
		return func() error {
			var secret corev1.Secret
			if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &secret); err != nil {
				return err
			}
			if len(secret.Data[key]) == 0 {
				return fmt.Errorf("Secret %s/%s has no %s", namespace, name, key)
			}
			s[namespace+" "+name+" "+key+" "+string(secret.UID)] = string(secret.Data[key])
			return nil
		}
	}

	// A Pooled tenant whose relay password Secret comes after it.
	acme := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1alpha1.TenantSpec{SMTP: &v1alpha1.SMTPRelay{
		Host: "relay.example", From: "chat@acme.example", Username: "relay",
		PasswordSecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "relay"}, Key: "password"},
	}}}
	if err := c.Create(ctx, acme); err != nil {
		t.Fatal(err)
	}
	wait("acme's namespace", func() error { return c.Get(ctx, client.ObjectKey{Name: "acme"}, &corev1.Namespace{}) })
	relay := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "relay"}, StringData: map[string]string{"password": s.add("relay password")}}
	if err := c.Create(ctx, relay); err != nil {
		t.Fatal(err)
	}
	wait("acme Ready", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(acme), acme); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(acme.Status.Conditions, v1alpha1.ConditionReady) {
			return fmt.Errorf("conditions %+v", acme.Status.Conditions)
		}
		return nil
	})
	wait("acme's admin password", secretValue("acme", controllers.AdminSecret, corev1.BasicAuthPasswordKey))
	wait("acme's API key", secretValue("acme", controllers.APIKeySecret, controllers.APIKeySecretKey))
	// Deleting the API key's Secret has a new key made (and the old one revoked).
	var old corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: "acme", Name: controllers.APIKeySecret}, &old); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}
	wait("acme's new API key", func() error {
		var secret corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: "acme", Name: controllers.APIKeySecret}, &secret); err != nil {
			return err
		}
		if secret.UID == old.UID {
			return errors.New("still the old Secret")
		}
		return secretValue("acme", controllers.APIKeySecret, controllers.APIKeySecretKey)()
	})

	// A Dedicated tenant: its own role, password and database URL.
	globex := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "globex"}, Spec: v1alpha1.TenantSpec{Isolation: v1alpha1.IsolationDedicated}}
	if err := c.Create(ctx, globex); err != nil {
		t.Fatal(err)
	}
	wait("globex's database URL", secretValue("globex", controllers.DatabaseSecret, controllers.DatabaseSecretKey))
	wait("globex's admin password", secretValue("globex", controllers.AdminSecret, corev1.BasicAuthPasswordKey))
	passwords := secrets{}
	for what, v := range s {
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if password, ok := u.User.Password(); ok {
				passwords[what+" (its password)"] = password
			}
		}
	}
	maps.Copy(s, passwords)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the operator exited with %v after SIGTERM\n%s", err, logs.String())
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"debug"`) && !strings.Contains(out, `"level":"Level(-`) {
		t.Fatalf("the operator's log has no debug line; was it verbose?\n%s", out)
	}
	if found := s.leaks(out); len(found) > 0 {
		t.Errorf("the operator logged secrets: %s\n%s", strings.Join(found, ", "), out)
	}
	t.Logf("%d secrets checked against %d lines of log", len(s), strings.Count(out, "\n"))
}
