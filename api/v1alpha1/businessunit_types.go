package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Permission is what a supervisor may do in a business unit.
// +kubebuilder:validation:Enum=Supervise;SuperviseOpenChats;AllChats
type Permission string

const (
	// PermissionSupervise: watch a chat live, whisper, transfer and finish.
	PermissionSupervise Permission = "Supervise"
	// PermissionSuperviseOpenChats: see every open chat of the unit.
	PermissionSuperviseOpenChats Permission = "SuperviseOpenChats"
	// PermissionAllChats: search and export the unit's history, and the tenant's contacts.
	PermissionAllChats Permission = "AllChats"
)

// RoutingPolicy says which agent gets a new conversation.
// +kubebuilder:validation:Enum=LeastLoaded
type RoutingPolicy string

// RoutingLeastLoaded gives a conversation to the available agent with the fewest open
// conversations below capacity, or queues it, oldest served first.
const RoutingLeastLoaded RoutingPolicy = "LeastLoaded"

// Weekday is a day of the week.
// +kubebuilder:validation:Enum=Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday
type Weekday string

// BusinessUnitSpec declares a team that visitors chat with, and who supervises it.
type BusinessUnitSpec struct {
	// displayName is the unit's name for people, shown in the widget and the console.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName,omitempty"`

	// supervisors are the people who supervise the unit, with their permissions here.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=500
	Supervisors []Supervisor `json:"supervisors,omitempty"`

	// routingPolicy says which agent gets a new conversation.
	// +optional
	// +kubebuilder:default=LeastLoaded
	RoutingPolicy RoutingPolicy `json:"routingPolicy,omitempty"`

	// businessHours are when the unit takes chats; outside them visitors may leave an
	// offline message. Unset means always open.
	// +optional
	BusinessHours *BusinessHours `json:"businessHours,omitempty"`

	// offlineMessages lets visitors leave a message when nobody is online.
	// +optional
	// +kubebuilder:default=true
	OfflineMessages *bool `json:"offlineMessages,omitempty"`

	// inactivityThreshold is how long a conversation may go without a message from either
	// side before supervisors see it flagged inactive.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s') && duration(self) <= duration('24h')",message="inactivityThreshold must be between 10s and 24h"
	InactivityThreshold *metav1.Duration `json:"inactivityThreshold,omitempty"`
}

// Supervisor is a person who supervises a business unit.
type Supervisor struct {
	// name is the supervisor's user name, the one they sign in with.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// displayName is the supervisor's name for people, shown with their whispers.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName,omitempty"`

	// permissions are what the supervisor may do in this unit.
	// +optional
	// +listType=set
	Permissions []Permission `json:"permissions,omitempty"`
}

// BusinessHours are a unit's opening hours in its time zone.
type BusinessHours struct {
	// timeZone is an IANA time zone, e.g. Europe/Paris.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone"`

	// weekly are the opening hours by day; a day not listed is closed.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=14
	Weekly []OpeningHours `json:"weekly"`
}

// OpeningHours are the hours a unit is open on some days.
// +kubebuilder:validation:XValidation:rule="self.open < self.close",message="open must be before close"
type OpeningHours struct {
	// days are the days these hours apply to.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	Days []Weekday `json:"days"`

	// open is the opening time, HH:MM in 24-hour time.
	// +required
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	Open string `json:"open"`

	// close is the closing time, HH:MM in 24-hour time, after open.
	// +required
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-4]):[0-5][0-9]$`
	Close string `json:"close"`
}

// BusinessUnitStatus is what the operator observed of a business unit.
type BusinessUnitStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions holds Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// agents counts the agents whose AgentCapacity names this unit.
	// +optional
	Agents int32 `json:"agents,omitempty"`

	// agentsOnline counts those with a stream open.
	// +optional
	AgentsOnline int32 `json:"agentsOnline,omitempty"`

	// openConversations counts the unit's assigned and active conversations.
	// +optional
	OpenConversations int32 `json:"openConversations,omitempty"`

	// queuedConversations counts the conversations waiting for an agent.
	// +optional
	QueuedConversations int32 `json:"queuedConversations,omitempty"`
}

// BusinessUnit is a team visitors chat with (sales, support…), in its tenant's namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bu;sbbu,categories=switchboard
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",message="a BusinessUnit's name is a DNS label (agents and the widget refer to it)"
// +kubebuilder:printcolumn:name="Display",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Agents",type=integer,JSONPath=`.status.agents`
// +kubebuilder:printcolumn:name="Online",type=integer,JSONPath=`.status.agentsOnline`
// +kubebuilder:printcolumn:name="Open",type=integer,JSONPath=`.status.openConversations`
// +kubebuilder:printcolumn:name="Queued",type=integer,JSONPath=`.status.queuedConversations`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BusinessUnit struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the unit.
	// +optional
	Spec BusinessUnitSpec `json:"spec,omitempty"`

	// status is what the operator observed.
	// +optional
	Status BusinessUnitStatus `json:"status,omitempty"`
}

// BusinessUnitList is a list of BusinessUnits.
//
// +kubebuilder:object:root=true
type BusinessUnitList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BusinessUnit `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BusinessUnit{}, &BusinessUnitList{})
}
