-- wrk's done() hook: the run's counters as one JSON line on stdout (wrk's own report is text meant for people).
-- summary.requests counts every complete response, whatever its status; summary.errors are wrk's error counters.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"latency_p50_us":%d,"latency_max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency.max))
end
