-- Fixed-window counters shared by every replica. UNLOGGED: losing counters
-- in a crash only resets some limits, and it saves WAL on every log-in.
CREATE UNLOGGED TABLE rate_limits (
    key          text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL
);
