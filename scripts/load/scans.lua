-- wrk script: POST /api/v1/scans with a mix a busy counter sees: loyalty cards at the till
-- (accepted, repeated taps inside the duplicate window), festival tickets at two gates
-- (accepted once, then "already used"), and unknown values (rejected).
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PASSDESK_KEY")

request = function()
  counter = counter + 1
  local kind = counter % 4
  local value, reader
  if kind == 0 then
    value, reader = string.format("BEAN-%04d", counter % 150 + 1), "till-1"
  elseif kind == 1 then
    value, reader = string.format("HLF-%04d", counter % 240 + 1), "gate-a"
  elseif kind == 2 then
    value, reader = string.format("HLF-%04d", counter % 240 + 1), "gate-b"
  else
    value, reader = string.format("UNKNOWN-%d", counter), "gate-a"
  end
  return wrk.format(nil, "/api/v1/scans", nil,
    string.format('{"value":"%s","readerId":"%s","medium":"qr"}', value, reader))
end
