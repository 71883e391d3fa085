package etcdharness

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ScrapedFamilies are the metric names Scrape keeps; every label set of a name is summed.
var ScrapedFamilies = []string{
	"go_gc_duration_seconds_count",
	"go_gc_duration_seconds_sum",
	"go_goroutines",
	"process_resident_memory_bytes",
	"process_cpu_seconds_total",
	"etcd_disk_wal_fsync_duration_seconds_sum",
	"etcd_disk_wal_fsync_duration_seconds_count",
	"etcd_disk_backend_commit_duration_seconds_sum",
	"etcd_disk_backend_commit_duration_seconds_count",
	"etcd_network_peer_round_trip_time_seconds_sum",
	"etcd_network_peer_round_trip_time_seconds_count",
	"etcd_network_client_grpc_received_bytes_total",
	"etcd_network_client_grpc_sent_bytes_total",
	"etcd_server_is_leader",
	"etcd_server_leader_changes_seen_total",
	"etcd_server_proposals_committed_total",
	"etcd_server_proposals_applied_total",
	"etcd_server_read_indexes_failed_total",
	"etcd_server_slow_read_indexes_total",
	"etcd_mvcc_db_total_size_in_bytes",
	// Compaction (mvcc/metrics.go): the index walk's and each bolt batch's time (whole ms,
	// truncated: time.Since / time.Millisecond), the scheduled compaction's total, keys deleted.
	"etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds_sum",
	"etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds_count",
	"etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds_sum",
	"etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds_count",
	"etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_sum",
	"etcd_debugging_mvcc_db_compaction_keys_total",
}

// HandledPrefix keys grpc_server_handled_total by method: "grpc_handled:Range" is the number of
// Range RPCs the member finished (all codes).
const HandledPrefix = "grpc_handled:"

// Scrape fetches a Prometheus text-format page and returns the samples of ScrapedFamilies
// (summed over label sets) and grpc_server_handled_total per grpc_method.
func Scrape(url string, timeout time.Duration) (map[string]float64, error) {
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	want := map[string]bool{}
	for _, f := range ScrapedFamilies {
		want[f] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := parseSample(line)
		if !ok {
			continue
		}
		if want[name] {
			out[name] += value
		} else if name == "grpc_server_handled_total" {
			if m := labelValue(labels, "grpc_method"); m != "" {
				out[HandledPrefix+m] += value
			}
		}
	}
	return out, sc.Err()
}

func parseSample(line string) (name, labels string, value float64, ok bool) {
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", "", 0, false
	}
	name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		j := strings.LastIndexByte(rest, '}')
		if j < 0 {
			return "", "", 0, false
		}
		labels = rest[1:j]
		rest = rest[j+1:]
	}
	fs := strings.Fields(rest)
	if len(fs) < 1 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(fs[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return name, labels, v, true
}

func labelValue(labels, key string) string {
	k := key + "=\""
	i := strings.Index(labels, k)
	if i < 0 {
		return ""
	}
	s := labels[i+len(k):]
	j := strings.IndexByte(s, '"')
	if j < 0 {
		return ""
	}
	return s[:j]
}
