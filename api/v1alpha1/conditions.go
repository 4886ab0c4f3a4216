package v1alpha1

// Condition types of Switchboard's resources.
const (
	// ConditionReady is True when everything the resource declares is in effect.
	ConditionReady = "Ready"
	// ConditionDatabaseReady is True when a Tenant's rows (and, for Dedicated, its database)
	// exist and are current.
	ConditionDatabaseReady = "DatabaseReady"
	// ConditionServicesReady is True when the services serving a Tenant are available.
	ConditionServicesReady = "ServicesReady"
	// ConditionMonitoringReady is True when a Tenant's PrometheusRule holds its objectives'
	// rules; False when prometheus-operator's CRDs are not installed. It does not affect Ready.
	ConditionMonitoringReady = "MonitoringReady"
)

// Condition reasons, one word each, so that a person and a script can act on them.
const (
	// ReasonReconciled: the declared state is in effect.
	ReasonReconciled = "Reconciled"
	// ReasonProgressing: the operator is still making it so.
	ReasonProgressing = "Progressing"
	// ReasonDatabaseUnavailable: PostgreSQL could not be reached or refused the change.
	ReasonDatabaseUnavailable = "DatabaseUnavailable"
	// ReasonTenantNotFound: no Tenant owns the resource's namespace.
	ReasonTenantNotFound = "TenantNotFound"
	// ReasonTenantNotReady: the owning Tenant is not Ready yet.
	ReasonTenantNotReady = "TenantNotReady"
	// ReasonBusinessUnitNotFound: a business unit the resource names does not exist.
	ReasonBusinessUnitNotFound = "BusinessUnitNotFound"
	// ReasonSecretNotFound: a Secret (or key) the resource names does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonDeploymentUnavailable: a Dedicated tenant's Deployment has no available replica.
	ReasonDeploymentUnavailable = "DeploymentUnavailable"
	// ReasonPooled: a Pooled tenant is served by the shared services.
	ReasonPooled = "Pooled"
	// ReasonSuspended: the tenant is suspended; nothing is routed.
	ReasonSuspended = "Suspended"
	// ReasonInvalidSpec: the spec passed the schema but cannot be used (an unknown time zone).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonUnsupported: the spec asks for something this version does not do yet.
	ReasonUnsupported = "Unsupported"
	// ReasonMonitoringNotInstalled: the cluster serves no monitoring.coreos.com/v1
	// PrometheusRule, so the objectives' rules are not written.
	ReasonMonitoringNotInstalled = "MonitoringNotInstalled"
	// ReasonDeleting: the resource is being deleted.
	ReasonDeleting = "Deleting"
)

// Finalizers, named after what they guard.
const (
	// FinalizerTenantData removes (or keeps, by deletionPolicy) a Tenant's data.
	FinalizerTenantData = "supervision.switchboard.dev/tenant-data"
	// FinalizerConfigRows removes the rows a BusinessUnit, AgentCapacity or
	// ProductivityObjective put in PostgreSQL.
	FinalizerConfigRows = "supervision.switchboard.dev/config-rows"
)
