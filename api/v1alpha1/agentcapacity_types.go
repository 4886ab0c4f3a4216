package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Channel is a way visitors reach agents.
// +kubebuilder:validation:Enum=Chat
type Channel string

// ChannelChat is the website chat widget.
const ChannelChat Channel = "Chat"

// AgentCapacitySpec declares an agent: who, in which units, and how many conversations
// at once.
type AgentCapacitySpec struct {
	// agent is the agent's user name, the one they sign in with. It cannot change: declare
	// another AgentCapacity for another agent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="agent is immutable"
	Agent string `json:"agent"`

	// displayName is the agent's name as visitors and supervisors see it.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName,omitempty"`

	// businessUnits are the names of the BusinessUnits (in this namespace) whose
	// conversations the agent takes.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:items:MaxLength=63
	BusinessUnits []string `json:"businessUnits"`

	// maxConversations is the most conversations the agent holds at once, 1–50.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	MaxConversations int32 `json:"maxConversations"`

	// channels are the ways of reaching the agent.
	// +optional
	// +listType=set
	// +kubebuilder:default={Chat}
	Channels []Channel `json:"channels,omitempty"`
}

// AgentCapacityStatus is what the operator observed of an agent.
type AgentCapacityStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions holds Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// currentLoad is the number of conversations the agent holds now.
	// +optional
	CurrentLoad int32 `json:"currentLoad,omitempty"`

	// presence is available, busy, away or offline.
	// +optional
	Presence string `json:"presence,omitempty"`

	// presenceSince is when the presence last changed.
	// +optional
	PresenceSince *metav1.Time `json:"presenceSince,omitempty"`
}

// AgentCapacity is an agent of a tenant, its business units and its capacity.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ac;agent;agents,categories=switchboard
// +kubebuilder:printcolumn:name="Agent",type=string,JSONPath=`.spec.agent`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Presence",type=string,JSONPath=`.status.presence`
// +kubebuilder:printcolumn:name="Load",type=integer,JSONPath=`.status.currentLoad`
// +kubebuilder:printcolumn:name="Capacity",type=integer,JSONPath=`.spec.maxConversations`
// +kubebuilder:printcolumn:name="Units",type=string,JSONPath=`.spec.businessUnits`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AgentCapacity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the agent.
	// +required
	Spec AgentCapacitySpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status AgentCapacityStatus `json:"status,omitempty"`
}

// AgentCapacityList is a list of AgentCapacities.
//
// +kubebuilder:object:root=true
type AgentCapacityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AgentCapacity `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AgentCapacity{}, &AgentCapacityList{})
}
