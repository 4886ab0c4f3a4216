package supervision

import (
	"context"

	"connectrpc.com/connect"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// GetDailyReport is not served yet.
func (s *Server) GetDailyReport(ctx context.Context, _ *connect.Request[supervisionv1.GetDailyReportRequest]) (*connect.Response[supervisionv1.GetDailyReportResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetDailyReport is not served yet")
}

// GetMonthlyReport is not served yet.
func (s *Server) GetMonthlyReport(ctx context.Context, _ *connect.Request[supervisionv1.GetMonthlyReportRequest]) (*connect.Response[supervisionv1.GetMonthlyReportResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetMonthlyReport is not served yet")
}

// GetVisitorStatistics is not served yet.
func (s *Server) GetVisitorStatistics(ctx context.Context, _ *connect.Request[supervisionv1.GetVisitorStatisticsRequest]) (*connect.Response[supervisionv1.GetVisitorStatisticsResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetVisitorStatistics is not served yet")
}

// GetAgentStatistics is not served yet.
func (s *Server) GetAgentStatistics(ctx context.Context, _ *connect.Request[supervisionv1.GetAgentStatisticsRequest]) (*connect.Response[supervisionv1.GetAgentStatisticsResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetAgentStatistics is not served yet")
}

// GetInteractionStatistics is not served yet.
func (s *Server) GetInteractionStatistics(ctx context.Context, _ *connect.Request[supervisionv1.GetInteractionStatisticsRequest]) (*connect.Response[supervisionv1.GetInteractionStatisticsResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetInteractionStatistics is not served yet")
}

// ExportReport is not served yet.
func (s *Server) ExportReport(ctx context.Context, _ *connect.Request[supervisionv1.ExportReportRequest], _ *connect.ServerStream[supervisionv1.ExportReportResponse]) error {
	return rpcerr.Errorf(connect.CodeUnimplemented, "ExportReport is not served yet")
}
