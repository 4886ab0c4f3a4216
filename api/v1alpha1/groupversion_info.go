// Package v1alpha1 holds the custom resources of Switchboard, group
// supervision.switchboard.dev: Tenant (cluster-scoped), and BusinessUnit, AgentCapacity and
// ProductivityObjective in each tenant's namespace. The operator turns them into rows in
// PostgreSQL and Kubernetes objects; `switchboard dev` applies the same shapes from YAML.
//
// +kubebuilder:object:generate=true
// +groupName=supervision.switchboard.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these resources.
	GroupVersion = schema.GroupVersion{Group: "supervision.switchboard.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group and version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
