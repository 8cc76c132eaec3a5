-- Provider events forgotten when old (hooks::retention): the hourly retention pass walks
-- hook_events by when they arrived, a bounded batch at a time, never the whole table.
CREATE INDEX hook_events_received ON hook_events (received_at);
