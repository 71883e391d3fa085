// Package etcdharness holds what the load generator (etcdload) and the grid runner
// (etcdmeasure) share: the JSON result the load generator prints, /proc readers, a small
// Prometheus text-format scraper and order statistics.
package etcdharness

// LatencyStats summarises the latencies of the requests that completed in the measured window,
// in milliseconds.
type LatencyStats struct {
	N    int64   `json:"n"`
	Mean float64 `json:"mean_ms"`
	Min  float64 `json:"min_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

// WriteStats describes the background puts (--write-rate).
type WriteStats struct {
	TargetRate float64 `json:"target_rate"`
	Issued     int64   `json:"issued_in_window"`
	Requests   int64   `json:"completed_in_window"`
	Errors     int64   `json:"errors"`
	Dropped    int64   `json:"dropped"`
	QPS        float64 `json:"qps"`
	MeanMs     float64 `json:"latency_ms_mean"`
}

// ProbeStats describes the probe goroutine's linearizable and serializable single-key reads.
type ProbeStats struct {
	Rate     float64      `json:"rate"`
	Endpoint string       `json:"endpoint"`
	L        LatencyStats `json:"linearizable"`
	S        LatencyStats `json:"serializable"`
	Errors   int64        `json:"errors"`
}

// GoStats are the load generator's own Go runtime observables over the window.
type GoStats struct {
	GC         uint32  `json:"gc_count"`
	GCPauseMs  float64 `json:"gc_pause_total_ms"`
	Goroutines int     `json:"goroutines"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	HeapMB     float64 `json:"heap_alloc_mb"`
}

// LoadResult is the JSON object etcdload prints on stdout.
type LoadResult struct {
	Op            string   `json:"op"`
	Consistency   string   `json:"consistency,omitempty"`
	Endpoints     []string `json:"endpoints"`
	Clients       int      `json:"clients"`
	Conns         int      `json:"conns"`
	KeySize       int      `json:"key_size_bytes"`
	ValueSize     int      `json:"value_size_bytes"`
	KeysInRange   int      `json:"keys_in_range,omitempty"`
	Limit         int64    `json:"limit,omitempty"`
	CountOnly     bool     `json:"count_only,omitempty"`
	Rate          float64  `json:"rate,omitempty"`
	Auth          string   `json:"auth"`
	TokenReuse    bool     `json:"token_reuse"`
	PreloadKeys   int      `json:"preload_keys"`
	PreloadS      float64  `json:"preload_s"`
	WarmupS       float64  `json:"warmup_s"`
	DurationS     float64  `json:"duration_s"`
	WindowS       float64  `json:"window_s"`
	WindowStartNs int64    `json:"window_start_unix_ns"`
	WindowEndNs   int64    `json:"window_end_unix_ns"`

	Requests     int64        `json:"requests"`
	Errors       int64        `json:"errors"`
	ErrorSamples []string     `json:"error_samples,omitempty"`
	QPS          float64      `json:"qps"`
	Latency      LatencyStats `json:"latency"`
	// AuthCalls counts the Authenticate calls that completed in the window (token_reuse = 0 and
	// the authenticate op).
	AuthCalls int64 `json:"auth_calls"`

	Write *WriteStats `json:"write,omitempty"`
	Probe *ProbeStats `json:"probe,omitempty"`

	// CPU seconds (utime+stime from /proc/<pid>/stat) over the window, per named process;
	// "client" is the load generator itself.
	CPUSeconds  map[string]float64 `json:"cpu_s"`
	CPUUsPerReq map[string]float64 `json:"cpu_us_per_req"`
	RSSMB       map[string]float64 `json:"rss_mb"`
	ClockTicks  int                `json:"clock_ticks_per_s"`
	// The whole machine's CPU seconds by kind over the window (/proc/stat: user, system,
	// idle, iowait, irq, softirq, steal, ...), every process on it included.
	MachineCPUSeconds map[string]float64 `json:"machine_cpu_s,omitempty"`

	Client GoStats `json:"client_go"`

	// Mean round trip (ms) of GET /raft/probing on each member's peer URL during the window
	// (--peer-urls).
	PeerRTTMs map[string]float64 `json:"peer_rtt_ms,omitempty"`

	// Selected Prometheus samples of each named member, scraped just before and just after
	// the window (see Scrape).
	MetricsStart map[string]map[string]float64 `json:"metrics_start,omitempty"`
	MetricsEnd   map[string]map[string]float64 `json:"metrics_end,omitempty"`
}
