// Package hostile holds the request fuzzer, a test only: FuzzEveryRequest sends fuzzed
// bodies to every rpc of every service (taken from the services' descriptors, so a new rpc
// is fuzzed without anyone adding it), over real HTTP to a real `serve` replica on a real
// PostgreSQL, as a visitor, an agent, a supervisor with every permission, a tenant admin
// and nobody. Whatever the body, the server answers with a Connect code meant for the
// caller — never Internal, Unknown or DataLoss, never a dropped connection — a malformed
// body is refused, every InvalidArgument names a field of the request, and the replica
// still answers its health check afterwards.
//
//	go test ./services/hostile                                    # the seed corpus
//	go test -run '^$' -fuzz '^FuzzEveryRequest$' -fuzztime 60s ./services/hostile
//
// Every input that ever failed is kept under testdata/fuzz/FuzzEveryRequest, which the
// first command replays.
package hostile
