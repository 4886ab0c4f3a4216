package controllers

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/store"
)

// APIKeySecret holds an API key of the tenant's backend (ConversionService), in the
// tenant's namespace, under APIKeySecretKey.
const (
	APIKeySecret    = "switchboard-api-key"
	APIKeySecretKey = "key"
)

// operatorAPIKey is the name of the key the operator keeps, in the tenant's list of keys.
const operatorAPIKey = "switchboard-operator"

// apiKey keeps a live API key of the tenant in APIKeySecret. The key is made once; when
// the Secret is deleted, or its key was revoked (AuthService.RevokeApiKey), a new key is
// made, the old one revoked, and the Secret written again. The Secret is written inside
// the transaction that stores the key, so a failure of either leaves neither.
func (r *TenantReconciler) apiKey(ctx context.Context, pool *pgxpool.Pool, t *v1alpha1.Tenant) error {
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: APIKeySecret}, &secret)
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("reading the API key Secret: %w", err)
	}
	exists := err == nil
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		tenant, err := store.TenantID(ctx, tx, t.Name)
		if err != nil {
			return err
		}
		if exists {
			if hash, ok := auth.HashAPIKey(tenant, string(secret.Data[APIKeySecretKey])); ok {
				live, err := store.APIKeyLive(ctx, tx, tenant, hash)
				if err != nil {
					return fmt.Errorf("checking the API key of the Secret: %w", err)
				}
				if live {
					t.Status.APIKeySecret = APIKeySecret
					return nil
				}
			}
		}
		key, hash := auth.NewAPIKey(tenant)
		if _, err := store.ReplaceAPIKey(ctx, tx, tenant, operatorAPIKey, hash); err != nil {
			return err
		}
		data := map[string][]byte{APIKeySecretKey: []byte(key), "name": []byte(operatorAPIKey)}
		if exists {
			secret.Data = data
			err = r.Update(ctx, &secret)
		} else {
			secret = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: APIKeySecret, Labels: map[string]string{LabelTenant: t.Name}},
				Type: corev1.SecretTypeOpaque, Data: data}
			if err := controllerutil.SetControllerReference(t, &secret, r.Scheme()); err != nil {
				return err
			}
			err = r.Create(ctx, &secret)
		}
		if err != nil {
			return fmt.Errorf("writing the API key Secret: %w", err)
		}
		t.Status.APIKeySecret = APIKeySecret
		return nil
	})
}
