package controllers

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/store"
)

// AdminSecret holds a tenant's first admin's credentials, in the tenant's namespace.
const AdminSecret = "switchboard-admin"

// adminUsername is the first admin's user name.
const adminUsername = "admin"

// adminAccount gives the tenant an admin account whose password is in AdminSecret. The
// password is made once; deleting the Secret makes a new one and resets the account.
func (r *TenantReconciler) adminAccount(ctx context.Context, tx pgx.Tx, t *v1alpha1.Tenant, tenant uuid.UUID) error {
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: AdminSecret}, &secret)
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("reading the admin Secret: %w", err)
	}
	reset := err != nil
	if reset {
		password, err := newPassword()
		if err != nil {
			return err
		}
		secret = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: AdminSecret, Labels: map[string]string{LabelTenant: t.Name}},
			Type: corev1.SecretTypeBasicAuth,
			Data: map[string][]byte{corev1.BasicAuthUsernameKey: []byte(adminUsername), corev1.BasicAuthPasswordKey: []byte(password)}}
		if err := controllerutil.SetControllerReference(t, &secret, r.Scheme()); err != nil {
			return err
		}
		if err := r.Create(ctx, &secret); err != nil {
			return fmt.Errorf("writing the admin Secret: %w", err)
		}
	} else {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE tenant_id = $1 AND username = $2)`, tenant, adminUsername).Scan(&exists); err != nil {
			return err
		}
		if exists {
			t.Status.AdminSecret = AdminSecret
			return nil
		}
	}
	hash, err := auth.HashPassword(string(secret.Data[corev1.BasicAuthPasswordKey]))
	if err != nil {
		return err
	}
	if err := store.UpsertAccount(ctx, tx, tenant, store.AccountConfig{Username: adminUsername, DisplayName: "Tenant admin",
		Role: store.RoleAdmin, PasswordHash: hash}, false); err != nil {
		return err
	}
	t.Status.AdminSecret = AdminSecret
	return nil
}
