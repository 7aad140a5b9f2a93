package httpserver

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/web"
)

// deliveryParams are the query parameters of the deliveries page.
var deliveryParams = []string{"subscriber", "cursor", "limit"}

// handleAdminDeliveries shows each subscriber's backlog and a page of the
// parked deliveries administrators can retry.
func (s *Server) handleAdminDeliveries() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		stats, err := s.opts.Deliveries.Stats(ctx)
		if err != nil {
			return err
		}
		v := web.AdminDeliveriesView{Subscriber: c.QueryParam("subscriber"), Names: s.providerNames()}
		for _, st := range stats {
			v.Queues = append(v.Queues, web.DeliveryQueue{Subscriber: st.Subscriber, Pending: st.Pending, Dead: st.Dead,
				Lag: st.Lag, Owner: st.Owner})
		}
		err = knownParams(c, deliveryParams)
		var dq admin.DeliveryQuery
		if err == nil {
			dq, err = admin.ParseDeliveryQuery(c.QueryParams().Get)
		}
		var page admin.Page[admin.DeliveryRow]
		if err == nil {
			page, err = s.opts.Admin.DeadDeliveries(ctx, dq)
		}
		if v.Error, err = filterMessage(c, err); err != nil {
			return err
		}
		v.Dead = page.Rows
		v.Pager = pagerOf(c, page, "deliveries")
		return render(c, statusFor(v.Error), web.AdminDeliveries(s.page(c, tr(c, "admin.deliveries.title")), v))
	}
}

// handleAdminDeliveryRetry re-queues one dead delivery.
func (s *Server) handleAdminDeliveryRetry() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return events.ErrDeliveryNotFound
		}
		if err := s.opts.Deliveries.Retry(c.Request().Context(), id, sessionFrom(c).UserID); err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.admin.delivery_queued"))
		return redirect(c, "/admin/deliveries")
	}
}
