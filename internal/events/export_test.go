package events

// ReadSQL is the lane's read, for the test of its plan.
const ReadSQL = readSQL
