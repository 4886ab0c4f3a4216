package controllers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/store"
)

// A Dedicated tenant's connection string lives in this Secret of its namespace, under
// this key; its Deployment reads it from there.
const (
	DatabaseSecret    = "switchboard-database"
	DatabaseSecretKey = "url"
	// ServeName names a Dedicated tenant's Deployment and Service.
	ServeName = "switchboard"
	servePort = 8080
)

// databaseName is a Dedicated tenant's database (and role) name.
func databaseName(t *v1alpha1.Tenant) string {
	if t.Spec.Database != nil && t.Spec.Database.Name != "" {
		return t.Spec.Database.Name
	}
	return "switchboard_" + strings.ReplaceAll(t.Name, "-", "_")
}

// dedicatedDatabase makes sure a Dedicated tenant has its role, its database (owned by
// the role, migrated) and the Secret with its URL, and returns the pool of that database.
func (r *TenantReconciler) dedicatedDatabase(ctx context.Context, t *v1alpha1.Tenant) (*pgxpool.Pool, error) {
	name := databaseName(t)
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: DatabaseSecret}, &secret)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("reading the database Secret: %w", err)
	}
	dsn := string(secret.Data[DatabaseSecretKey])
	if dsn == "" {
		password, err := newPassword()
		if err != nil {
			return nil, err
		}
		if dsn, err = tenantURL(r.DB.URL, name, password); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// Not with err, whose message quotes the URL, password and all.
		return nil, fmt.Errorf("the database Secret %s/%s holds no postgres:// URL", t.Name, DatabaseSecret)
	}
	password, _ := u.User.Password()
	role := pgx.Identifier{name}.Sanitize()
	// Roles and databases are made outside a transaction: CREATE DATABASE cannot run in one.
	steps := []struct {
		sql    string
		exists string // SQLSTATE meaning "already there"
	}{
		{"CREATE ROLE " + role + " LOGIN", "42710"},
		{"ALTER ROLE " + role + " LOGIN PASSWORD " + quoteLiteral(password), ""},
		{"GRANT " + pgx.Identifier{store.AppRole}.Sanitize() + " TO " + role, ""},
		{"CREATE DATABASE " + role + " OWNER " + role, "42P04"},
		{"REVOKE ALL ON DATABASE " + role + " FROM PUBLIC", ""},
	}
	for _, s := range steps {
		if _, err := r.DB.Pool.Exec(ctx, s.sql); err != nil {
			var pgErr *pgconn.PgError
			if s.exists != "" && errors.As(err, &pgErr) && pgErr.Code == s.exists {
				continue
			}
			return nil, fmt.Errorf("preparing database %s: %w", name, err)
		}
	}
	if err := r.keepSecret(ctx, t, dsn); err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, dsn); err != nil {
		return nil, fmt.Errorf("migrating database %s: %w", name, err)
	}
	return r.DB.poolFor(ctx, r.Client, t)
}

func (r *TenantReconciler) keepSecret(ctx context.Context, t *v1alpha1.Tenant, dsn string) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: DatabaseSecret}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, secret, func() error {
		secret.Labels = map[string]string{LabelTenant: t.Name}
		secret.Data = map[string][]byte{DatabaseSecretKey: []byte(dsn)}
		return controllerutil.SetControllerReference(t, secret, r.Scheme())
	})
	if err != nil {
		return fmt.Errorf("writing the database Secret: %w", err)
	}
	return nil
}

// dropDedicated removes a Dedicated tenant's database and role.
func (r *TenantReconciler) dropDedicated(ctx context.Context, t *v1alpha1.Tenant) error {
	r.DB.forget(t.Name)
	name := pgx.Identifier{databaseName(t)}.Sanitize()
	for _, sql := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "DROP ROLE IF EXISTS " + name} {
		if _, err := r.DB.Pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("dropping the database of tenant %q: %w", t.Name, err)
		}
	}
	return nil
}

// services runs `switchboard serve` for a Dedicated tenant, with a Service in front, and
// reports whether a replica is available.
func (r *TenantReconciler) services(ctx context.Context, t *v1alpha1.Tenant) (bool, string, error) {
	labels := map[string]string{LabelTenant: t.Name, "app.kubernetes.io/name": "switchboard", "app.kubernetes.io/component": "serve"}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: ServeName}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, deploy, func() error {
		deploy.Labels = labels
		deploy.Spec.Replicas = ptr.To(int32(2))
		deploy.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
		deploy.Spec.Template.Labels = labels
		probe := func(path string) *corev1.Probe {
			return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(servePort)}}}
		}
		deploy.Spec.Template.Spec = corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers: []corev1.Container{{
				Name:  "serve",
				Image: r.ServeImage,
				Args:  []string{"serve", "--listen=:8080"},
				Env: []corev1.EnvVar{{Name: "SWITCHBOARD_DATABASE_URL", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: DatabaseSecret}, Key: DatabaseSecretKey}}}},
				Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: servePort}},
				LivenessProbe:  probe("/healthz"),
				ReadinessProbe: probe("/readyz"),
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		}
		return controllerutil.SetControllerReference(t, deploy, r.Scheme())
	})
	if err != nil {
		return false, "", fmt.Errorf("writing the Deployment of tenant %q: %w", t.Name, err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: ServeName}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Client, svc, func() error {
		svc.Labels = labels
		svc.Spec.Selector = labels
		svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: servePort, TargetPort: intstr.FromString("http"), AppProtocol: ptr.To("kubernetes.io/h2c")}}
		return controllerutil.SetControllerReference(t, svc, r.Scheme())
	})
	if err != nil {
		return false, "", fmt.Errorf("writing the Service of tenant %q: %w", t.Name, err)
	}
	if deploy.Status.AvailableReplicas < 1 {
		return false, fmt.Sprintf("Deployment %s/%s has no available replica yet (%d of %d ready)", t.Name, ServeName,
			deploy.Status.ReadyReplicas, ptr.Deref(deploy.Spec.Replicas, 1)), nil
	}
	return true, fmt.Sprintf("%d of %d replicas available", deploy.Status.AvailableReplicas, ptr.Deref(deploy.Spec.Replicas, 1)), nil
}

// tenantURL is the shared database's URL with the tenant's role, password and database.
func tenantURL(shared, name, password string) (string, error) {
	u, err := url.Parse(shared)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("the operator's --database-url must be a postgres:// URL to make Dedicated tenants' URLs from it")
	}
	u.User = url.UserPassword(name, password)
	u.Path = "/" + name
	return u.String(), nil
}

func newPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// quoteLiteral quotes a string for SQL where parameters cannot be used (role passwords).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
