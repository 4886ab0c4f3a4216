package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// smtpSecretIndex indexes Tenants by the Secret (namespace/name) holding their relay
// password, so that a change of the Secret reaches the tenant's relay.
const smtpSecretIndex = ".spec.smtp.passwordSecretRef"

func smtpSecretKey(t *v1alpha1.Tenant) []string {
	if t.Spec.SMTP == nil || t.Spec.SMTP.PasswordSecretRef == nil {
		return nil
	}
	return []string{t.Name + "/" + t.Spec.SMTP.PasswordSecretRef.Name}
}

// relayPassword reads the relay password from the Secret the spec names; a missing Secret
// or key gives a condition.
func (r *TenantReconciler) relayPassword(ctx context.Context, t *v1alpha1.Tenant) (string, *metav1.Condition, error) {
	if t.Spec.SMTP == nil || t.Spec.SMTP.PasswordSecretRef == nil {
		return "", nil, nil
	}
	ref := t.Spec.SMTP.PasswordSecretRef
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: ref.Name}, &secret)
	if client.IgnoreNotFound(err) != nil {
		return "", nil, fmt.Errorf("reading the SMTP password Secret: %w", err)
	}
	password, ok := secret.Data[ref.Key]
	if err != nil || !ok {
		return "", &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonSecretNotFound,
			Message: fmt.Sprintf("spec.smtp.passwordSecretRef: no key %q in Secret %s/%s; transcripts cannot be mailed until it exists", ref.Key, t.Name, ref.Name)}, nil
	}
	return string(password), nil, nil
}

func (r *TenantReconciler) tenantsOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.TenantList
	if err := r.List(ctx, &list, client.MatchingFields{smtpSecretIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, t := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
	}
	return out
}
