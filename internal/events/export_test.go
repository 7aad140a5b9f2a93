package events

// The statements the dispatcher and its metrics run over and over, for the
// tests of their plans.
const (
	ReadSQL   = readSQL
	RetrySQL  = retrySQL
	FinishSQL = finishSQL
	StatsSQL  = statsSQL
)
