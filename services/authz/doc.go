// Package authz holds the authorization matrix, a test only: every rpc of every
// Switchboard service called by every kind of caller there is — visitors, agents,
// supervisors with each permission set, tenant admins, users of another tenant, the
// tenant's API key, and tokens that are missing, expired, revoked or tampered with — each
// answered as written in its table, with no data on a refusal and no row changed.
//
//	go test -v -run TestAuthorizationMatrix ./services/authz
//
// prints the matrix and the number of cases and refusals asserted.
package authz
