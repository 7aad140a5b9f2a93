package events

// The statements the dispatchers run over and over, and the deliveries
// page's, for the tests of their plans.
const (
	ReadSQL   = readSQL
	RetrySQL  = retrySQL
	FinishSQL = finishSQL
	StatsSQL  = statsSQL
)
