package httpserver

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/web"
)

// deadListLimit bounds the dead deliveries one page lists.
const deadListLimit = 200

// handleAdminDeliveries shows each subscriber's backlog and the parked
// deliveries administrators can retry.
func (s *Server) handleAdminDeliveries() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		stats, err := s.opts.Deliveries.Stats(ctx)
		if err != nil {
			return err
		}
		dead, err := s.opts.Deliveries.Dead(ctx, deadListLimit)
		if err != nil {
			return err
		}
		v := web.AdminDeliveriesView{Limit: deadListLimit}
		for _, st := range stats {
			v.Queues = append(v.Queues, web.DeliveryQueue{Subscriber: st.Subscriber, Pending: st.Pending, Dead: st.Dead,
				Lag: st.Lag, Owner: st.Owner})
		}
		for _, d := range dead {
			v.Dead = append(v.Dead, web.DeadDelivery{ID: d.ID, Subscriber: d.Subscriber, Attempts: d.Attempts,
				LastError: d.LastError, DeadAt: d.DeadAt, EventID: d.Event.ID, Kind: string(d.Event.Kind),
				UserID: d.Event.UserID, CreatedAt: d.Event.CreatedAt})
		}
		return render(c, http.StatusOK, web.AdminDeliveries(s.page(c, "Event deliveries"), v))
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
		s.flash(c, "success", "The delivery was queued again; it is attempted right away.")
		return redirect(c, "/admin/deliveries")
	}
}
