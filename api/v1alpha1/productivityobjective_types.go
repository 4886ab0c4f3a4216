package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Metric is what a productivity objective measures.
// +kubebuilder:validation:Enum=firstResponseTime;responseTime;handlingDuration;contactsPerHour;averageHandlingTime;satisfaction;conversionRate
type Metric string

const (
	// MetricFirstResponseTime is the time from a conversation's start to the agent's first
	// message; a conversation past the thresholds raises a signal.
	MetricFirstResponseTime Metric = "firstResponseTime"
	// MetricResponseTime is how long the visitor has been waiting for a reply; a
	// conversation past the thresholds raises a signal.
	MetricResponseTime Metric = "responseTime"
	// MetricHandlingDuration is how long a conversation has been open since assignment; a
	// conversation past the thresholds raises a signal.
	MetricHandlingDuration Metric = "handlingDuration"
	// MetricContactsPerHour is the conversations handled per agent and hour over the window.
	MetricContactsPerHour Metric = "contactsPerHour"
	// MetricAverageHandlingTime is the mean handling time of conversations closed in the window.
	MetricAverageHandlingTime Metric = "averageHandlingTime"
	// MetricSatisfaction is the percentage of ratings in the window that are satisfied
	// (thumbs up, or CSAT 4 and 5).
	MetricSatisfaction Metric = "satisfaction"
	// MetricConversionRate is the percentage of conversations in the window marked converted.
	MetricConversionRate Metric = "conversionRate"
)

// ProductivityObjectiveSpec declares a goal for a tenant, a unit or some agents, with the
// thresholds at which supervisors are warned.
//
// Durations (firstResponseTime, responseTime, handlingDuration, averageHandlingTime) are
// written like 45s or 2m30s, and lower is better: target <= warning < critical. The others
// are numbers (contactsPerHour, or percentages 0–100 for satisfaction and conversionRate),
// and higher is better: target >= warning > critical.
//
// +kubebuilder:validation:XValidation:rule="self.metric in ['firstResponseTime','responseTime','handlingDuration','averageHandlingTime'] ? [self.target, self.warning, self.critical].all(v, v.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$')) : [self.target, self.warning, self.critical].all(v, v.matches('^[0-9]+(\\\\.[0-9]+)?$'))",message="target, warning and critical are durations like 45s for time metrics, and plain numbers for the others"
// +kubebuilder:validation:XValidation:rule="!(self.metric in ['firstResponseTime','responseTime','handlingDuration','averageHandlingTime']) || ![self.target, self.warning, self.critical].all(v, v.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$')) || (duration(self.target) <= duration(self.warning) && duration(self.warning) < duration(self.critical))",message="for a time metric the thresholds must rise: target <= warning < critical"
// +kubebuilder:validation:XValidation:rule="self.metric in ['firstResponseTime','responseTime','handlingDuration','averageHandlingTime'] || ![self.target, self.warning, self.critical].all(v, v.matches('^[0-9]+(\\\\.[0-9]+)?$')) || (double(self.target) >= double(self.warning) && double(self.warning) > double(self.critical))",message="for contactsPerHour, satisfaction and conversionRate the thresholds must fall: target >= warning > critical"
// +kubebuilder:validation:XValidation:rule="!(self.metric in ['satisfaction','conversionRate']) || ![self.target, self.warning, self.critical].all(v, v.matches('^[0-9]+(\\\\.[0-9]+)?$')) || double(self.target) <= 100.0",message="satisfaction and conversionRate are percentages: at most 100"
// +kubebuilder:validation:XValidation:rule="!has(self.percent) || self.metric in ['firstResponseTime','responseTime','handlingDuration']",message="percent applies to firstResponseTime, responseTime and handlingDuration only"
type ProductivityObjectiveSpec struct {
	// scope is whom the objective applies to; empty means every conversation of the tenant.
	// The most specific objective for a metric wins: agent selector, then unit, then tenant.
	// +optional
	Scope ObjectiveScope `json:"scope,omitempty"`

	// metric is what is measured.
	// +required
	Metric Metric `json:"metric"`

	// target is the goal.
	// +required
	// +kubebuilder:validation:MaxLength=32
	Target string `json:"target"`

	// warning is the threshold past which supervisors see a warning.
	// +required
	// +kubebuilder:validation:MaxLength=32
	Warning string `json:"warning"`

	// critical is the threshold past which supervisors see a critical signal.
	// +required
	// +kubebuilder:validation:MaxLength=32
	Critical string `json:"critical"`

	// percent turns a time metric into a service level objective: this percentage of
	// conversations must meet target over the window (burn-rate alerts follow it).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Percent *int32 `json:"percent,omitempty"`

	// window is the period aggregate metrics and percentages are computed over.
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="window must be between 1m and 720h (30 days)"
	Window *metav1.Duration `json:"window,omitempty"`
}

// ObjectiveScope is whom an objective applies to.
type ObjectiveScope struct {
	// businessUnit limits the objective to one BusinessUnit of this namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	BusinessUnit string `json:"businessUnit,omitempty"`

	// agentSelector limits the objective to agents whose AgentCapacity labels match.
	// +optional
	AgentSelector *metav1.LabelSelector `json:"agentSelector,omitempty"`
}

// ProductivityObjectiveStatus is how the objective is being met.
type ProductivityObjectiveStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions holds Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// currentValue is the metric's value now, over the window, in the spec's unit.
	// +optional
	CurrentValue string `json:"currentValue,omitempty"`

	// attainment is how much of the goal is met, as a percentage, e.g. "92%".
	// +optional
	Attainment string `json:"attainment,omitempty"`

	// activeSignals counts the conversations and agents past warning or critical now.
	// +optional
	ActiveSignals int32 `json:"activeSignals,omitempty"`
}

// ProductivityObjective is a goal supervisors follow live: per-conversation thresholds
// that raise signals, or an aggregate goal whose progress the board shows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=po;objective;objectives,categories=switchboard
// +kubebuilder:printcolumn:name="Metric",type=string,JSONPath=`.spec.metric`
// +kubebuilder:printcolumn:name="Unit",type=string,JSONPath=`.spec.scope.businessUnit`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.target`
// +kubebuilder:printcolumn:name="Current",type=string,JSONPath=`.status.currentValue`
// +kubebuilder:printcolumn:name="Attainment",type=string,JSONPath=`.status.attainment`
// +kubebuilder:printcolumn:name="Signals",type=integer,JSONPath=`.status.activeSignals`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ProductivityObjective struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the objective.
	// +required
	Spec ProductivityObjectiveSpec `json:"spec"`

	// status is how the objective is being met.
	// +optional
	Status ProductivityObjectiveStatus `json:"status,omitempty"`
}

// ProductivityObjectiveList is a list of ProductivityObjectives.
//
// +kubebuilder:object:root=true
type ProductivityObjectiveList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProductivityObjective `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProductivityObjective{}, &ProductivityObjectiveList{})
}
