package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Isolation says what a tenant shares with others.
// +kubebuilder:validation:Enum=Pooled;Dedicated
type Isolation string

const (
	// IsolationPooled shares the platform's database (rows keyed and secured by tenant) and services.
	IsolationPooled Isolation = "Pooled"
	// IsolationDedicated gives the tenant its own database, role and Deployment.
	IsolationDedicated Isolation = "Dedicated"
)

// DeletionPolicy says what happens to a tenant's data when its Tenant is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionPolicyRetain keeps the tenant's conversations and configuration in PostgreSQL.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete removes every row (and a Dedicated tenant's database).
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// AuthMode says how staff sign in.
// +kubebuilder:validation:Enum=Local;OIDC
type AuthMode string

const (
	// AuthLocal signs staff in with local accounts and passwords.
	AuthLocal AuthMode = "Local"
	// AuthOIDC signs staff in with an OpenID Connect issuer.
	AuthOIDC AuthMode = "OIDC"
)

// TenantSpec declares a tenant: an organisation that chats with its visitors.
// +kubebuilder:validation:XValidation:rule="self.isolation == 'Dedicated' || !has(self.database)",message="database applies to Dedicated tenants only"
type TenantSpec struct {
	// displayName is the tenant's name for people, shown in the console.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName,omitempty"`

	// isolation is Pooled (shared database and services, rows secured by tenant) or
	// Dedicated (its own database, role and Deployment). It cannot change once set.
	// +optional
	// +kubebuilder:default=Pooled
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="isolation is immutable; create another Tenant to change it"
	Isolation Isolation `json:"isolation,omitempty"`

	// database is where a Dedicated tenant's data lives. It cannot change once set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="database is immutable; moving a tenant's data is not done by editing the Tenant"
	Database *TenantDatabase `json:"database,omitempty"`

	// consoleHost is the host name the tenant's console answers on, e.g. acme.chat.example.com.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ConsoleHost string `json:"consoleHost,omitempty"`

	// widget says where the tenant's chat widget may be shown.
	// +optional
	Widget *TenantWidget `json:"widget,omitempty"`

	// auth says how the tenant's staff sign in.
	// +optional
	Auth TenantAuth `json:"auth,omitempty"`

	// retention is how long closed conversations are kept, e.g. 8760h for a year; unset
	// keeps them.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('24h')",message="retention must be at least 24h"
	Retention *metav1.Duration `json:"retention,omitempty"`

	// perAgentMetrics exports per-agent Prometheus series for this tenant (more series).
	// +optional
	PerAgentMetrics bool `json:"perAgentMetrics,omitempty"`

	// deletionPolicy is what happens to the tenant's data when this Tenant is deleted:
	// Retain keeps it, Delete removes it.
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// suspend stops routing new conversations for the tenant; open ones go on.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// smtp is the relay through which transcripts are mailed.
	// +optional
	SMTP *SMTPRelay `json:"smtp,omitempty"`

	// limits overrides, for this tenant, the rate limits `serve` applies to every tenant
	// by default (its --limits flag); each limit left out keeps the server's. A call over
	// a limit is refused with ResourceExhausted and a retry delay, before it costs the
	// database anything. A limit of N per period lets N through at once and refills
	// evenly over the period.
	// +optional
	Limits *TenantLimits `json:"limits,omitempty"`
}

// TenantLimits are the rate limits of one tenant.
type TenantLimits struct {
	// conversationsPerMinute caps the conversations started and offline messages left
	// across the tenant (server default 120).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	ConversationsPerMinute *int32 `json:"conversationsPerMinute,omitempty"`

	// messagesPerSecond caps the messages the tenant's visitors and agents send together
	// (server default 100).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MessagesPerSecond *int32 `json:"messagesPerSecond,omitempty"`

	// draftsPerSecond caps the draft updates (what is being typed) across the tenant
	// (server default 200).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	DraftsPerSecond *int32 `json:"draftsPerSecond,omitempty"`

	// pageViewsPerSecond caps the page views and availability checks of the tenant's
	// widget across its sites (server default 100).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	PageViewsPerSecond *int32 `json:"pageViewsPerSecond,omitempty"`

	// visitorConversationsPerMinute caps the conversations and offline messages started
	// from one client address (server default 20); raise it when many visitors share an
	// address, as behind a company's proxy.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	VisitorConversationsPerMinute *int32 `json:"visitorConversationsPerMinute,omitempty"`

	// visitorPageViewsPerMinute caps the page views and availability checks from one
	// client address (server default 120).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	VisitorPageViewsPerMinute *int32 `json:"visitorPageViewsPerMinute,omitempty"`

	// visitorMessagesPerMinute caps the messages of one visitor in its conversation
	// (server default 60).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	VisitorMessagesPerMinute *int32 `json:"visitorMessagesPerMinute,omitempty"`

	// agentMessagesPerMinute caps the messages of one agent over all of its
	// conversations (server default 300).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	AgentMessagesPerMinute *int32 `json:"agentMessagesPerMinute,omitempty"`
}

// TenantWidget says where the chat widget may be shown.
type TenantWidget struct {
	// allowedOrigins are the sites whose pages may show the widget's chat frame, as
	// origins: a scheme, a host name and an optional port, e.g. https://shop.example.com,
	// https://*.example.com (every subdomain of example.com, not example.com itself) or
	// http://localhost:3000. Browsers refuse the frame on any other page. Empty, as by
	// default, lets every site show it, as the widget key is public anyway.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	AllowedOrigins []WidgetOrigin `json:"allowedOrigins,omitempty"`
}

// WidgetOrigin is a site's origin, e.g. https://shop.example.com or https://*.example.com.
// +kubebuilder:validation:MaxLength=262
// +kubebuilder:validation:XValidation:rule="self.matches('^https?://')",message="an allowed origin starts with https:// (or http://), e.g. https://shop.example.com"
// +kubebuilder:validation:XValidation:rule="!self.matches('^[a-zA-Z]+://[^/?#]*[/?#]')",message="an allowed origin is a scheme, host and port only, without a path, query or trailing slash: https://shop.example.com, not https://shop.example.com/"
// +kubebuilder:validation:XValidation:rule="!self.matches('^https?://[^/?#]*$') || self.matches('^https?://([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$')",message="an allowed origin's host is a lower-case host name, with *. in front for every subdomain, and an optional port: https://shop.example.com, https://*.example.com or http://localhost:3000"
type WidgetOrigin string

// TenantDatabase names a Dedicated tenant's database.
type TenantDatabase struct {
	// name is the database created for the tenant on the operator's PostgreSQL server;
	// defaults to switchboard_<tenant name with - as _>.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z_][a-z0-9_]*$`
	Name string `json:"name,omitempty"`
}

// TenantAuth says how staff sign in.
// +kubebuilder:validation:XValidation:rule="self.mode == 'OIDC' ? has(self.oidc) : !has(self.oidc)",message="oidc is required when mode is OIDC, and only then"
type TenantAuth struct {
	// mode is Local (accounts with passwords) or OIDC.
	// +optional
	// +kubebuilder:default=Local
	Mode AuthMode `json:"mode,omitempty"`

	// oidc is the OpenID Connect issuer when mode is OIDC.
	// +optional
	OIDC *OIDCAuth `json:"oidc,omitempty"`
}

// OIDCAuth is an OpenID Connect issuer.
type OIDCAuth struct {
	// issuerURL is the issuer's https URL.
	// +required
	// +kubebuilder:validation:Pattern=`^https://`
	// +kubebuilder:validation:MaxLength=2048
	IssuerURL string `json:"issuerURL"`

	// clientID is the console's client id at the issuer.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ClientID string `json:"clientID"`
}

// SMTPRelay is an outgoing mail relay.
type SMTPRelay struct {
	// host is the relay's host name or address.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`

	// port is the relay's port, usually 587 (STARTTLS) or 25.
	// +optional
	// +kubebuilder:default=587
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// from is the sender address of the mails.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=320
	// +kubebuilder:validation:Pattern=`^[^@\s<>]+@[^@\s<>]+$`
	From string `json:"from"`

	// username signs in to the relay; empty sends without signing in.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Username string `json:"username,omitempty"`

	// passwordSecretRef is the key of a Secret in the tenant's namespace that holds the
	// relay password.
	// +optional
	PasswordSecretRef *corev1.SecretKeySelector `json:"passwordSecretRef,omitempty"`
}

// TenantStatus is what the operator observed of a tenant.
type TenantStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions are Ready, DatabaseReady, ServicesReady and MonitoringReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// namespace is the tenant's namespace, where its BusinessUnits, AgentCapacities and
	// ProductivityObjectives live.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// consoleURL is where the tenant's staff sign in.
	// +optional
	ConsoleURL string `json:"consoleURL,omitempty"`

	// widgetKey is the public key the tenant's sites put in the chat widget.
	// +optional
	WidgetKey string `json:"widgetKey,omitempty"`

	// adminSecret names the Secret, in the tenant's namespace, holding the username and
	// password of the tenant's first admin (local accounts); delete it to have a new
	// password made.
	// +optional
	AdminSecret string `json:"adminSecret,omitempty"`

	// apiKeySecret names the Secret, in the tenant's namespace, holding an API key (key
	// "key") with which the tenant's backend records sales (ConversionService); delete it
	// to have a new key made and the old one revoked.
	// +optional
	APIKeySecret string `json:"apiKeySecret,omitempty"`

	// agentsOnline counts the tenant's agents with a stream open.
	// +optional
	AgentsOnline int32 `json:"agentsOnline,omitempty"`

	// openConversations counts the tenant's queued and assigned conversations.
	// +optional
	OpenConversations int32 `json:"openConversations,omitempty"`
}

// Tenant is an organisation using Switchboard: its namespace, its rows in PostgreSQL and,
// when Dedicated, its own database and services.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sbt;sbtenant,categories=switchboard
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 40",message="a Tenant's name is a DNS label of at most 40 characters (it names the tenant's namespace)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Isolation",type=string,JSONPath=`.spec.isolation`
// +kubebuilder:printcolumn:name="Online",type=integer,JSONPath=`.status.agentsOnline`,description="agents online"
// +kubebuilder:printcolumn:name="Open",type=integer,JSONPath=`.status.openConversations`,description="open conversations"
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`,priority=1
// +kubebuilder:printcolumn:name="Console",type=string,JSONPath=`.status.consoleURL`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the tenant.
	// +optional
	Spec TenantSpec `json:"spec,omitempty"`

	// status is what the operator observed.
	// +optional
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList is a list of Tenants.
//
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Tenant{}, &TenantList{})
}
