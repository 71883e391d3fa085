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

	// The results over time (--interval-ms): the error kinds of the main workload and of the
	// background puts over the window, samples of the raw errors, the per-interval records and
	// the members' Status answers (--status).
	RequestTimeoutS float64        `json:"request_timeout_s"`
	Dial            string         `json:"dial"`
	ErrorKinds      map[string]int `json:"error_kinds,omitempty"`
	WriteErrorKinds map[string]int `json:"write_error_kinds,omitempty"`
	ErrorLog        []ErrorSample  `json:"error_log,omitempty"`
	IntervalS       float64        `json:"interval_s,omitempty"`
	Intervals       []Interval     `json:"intervals,omitempty"`
	StatusPolls     []StatusPoll   `json:"status_polls,omitempty"`
	// WriteSteps are the background write rate's steps: [seconds after the window's start,
	// puts per second].
	WriteSteps [][2]float64 `json:"write_rate_steps,omitempty"`
	// FillKeys, FillRevisions: the unmeasured filler (--fill-keys), and how long it took.
	FillKeys      int     `json:"fill_keys,omitempty"`
	FillRevisions int     `json:"fill_revisions,omitempty"`
	FillS         float64 `json:"fill_s,omitempty"`
}

// ErrorKinds are the kinds a failed request is counted under, in CSV column order.
var ErrorKinds = []string{"unavailable", "deadline", "no_leader", "etcd_timeout", "leader_changed", "canceled", "other"}

// ErrorSample is one distinct error a request ended with: its kind, gRPC code and message,
// which workload ("main" or "write"), how often, and when it was first and last seen (seconds
// after the window's start; negative in the warm-up).
type ErrorSample struct {
	Workload string  `json:"workload"`
	Kind     string  `json:"kind"`
	Code     string  `json:"code"`
	Message  string  `json:"message"`
	Count    int     `json:"count"`
	FirstS   float64 `json:"first_s"`
	LastS    float64 `json:"last_s"`
}

// Flow is one workload's requests that ended inside one interval (or, for Outstanding, that
// were under way at its end), over every endpoint or over the connections to one endpoint.
type Flow struct {
	OK          int64          `json:"ok"`
	Failed      int64          `json:"failed"`
	FailedKinds map[string]int `json:"failed_kinds,omitempty"`
	Issued      int64          `json:"issued,omitempty"`
	MeanMs      float64        `json:"latency_mean_ms"`
	P50Ms       float64        `json:"latency_p50_ms"`
	P99Ms       float64        `json:"latency_p99_ms"`
	MaxMs       float64        `json:"latency_max_ms"`
	// FirstOKS, LastOKS: when the interval's first and last successful request ended (seconds
	// after the window's start); -1 if none did.
	FirstOKS    float64 `json:"first_ok_s"`
	LastOKS     float64 `json:"last_ok_s"`
	Outstanding int64   `json:"outstanding"`
}

// Interval is one interval of the window: [StartS, EndS) seconds after the window's start.
// Main and Write cover every endpoint; ByEndpoint splits them by the member the connection
// dials (only with --dial pinned, keyed by the --status name of the endpoint).
type Interval struct {
	StartS       float64         `json:"start_s"`
	EndS         float64         `json:"end_s"`
	Leader       string          `json:"leader"`
	WriteRate    float64         `json:"write_rate_offered"`
	Main         Flow            `json:"main"`
	Write        Flow            `json:"write"`
	ByEndpoint   map[string]Flow `json:"main_by_member,omitempty"`
	WriteByEndpt map[string]Flow `json:"write_by_member,omitempty"`
}

// StatusPoll is one answer (or its absence) of a member to a Status call: when it was asked
// (seconds after the window's start), whether it answered within the poll period, the leader
// it named (a --status name; "none" when it knew no leader; "?" for an ID not among the
// members) and its raft term.
type StatusPoll struct {
	T      float64 `json:"t_s"`
	Member string  `json:"member"`
	OK     bool    `json:"ok"`
	Leader string  `json:"leader,omitempty"`
	Term   uint64  `json:"term,omitempty"`
	Index  uint64  `json:"raft_index,omitempty"`
}
